//! The OpenAPI 3.1 description of the API, written by hand: it is the contract of the routes
//! (FORMAT.md, "server"), so it changes only when the routes do.

use crate::auth::SESSION_COOKIE;
use axum::Json;
use jiamao_domain::access::{Role, EVENT_POLICY};
use serde_json::{json, Value};

pub(crate) async fn handler() -> Json<Value> {
    Json(document())
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn body(description: &str, schema_ref: &str) -> Value {
    json!({
        "description": description,
        "required": true,
        "content": {
            "application/json": { "schema": { "$ref": schema_ref } },
            "text/plain": { "schema": { "type": "string" } }
        }
    })
}

fn date_query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "$ref": "#/components/schemas/Date" } })
}

fn required_date_query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": true, "description": description, "schema": { "$ref": "#/components/schemas/Date" } })
}

/// The members of two JSON objects in one (the second's win; they never share a key).
fn merged(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            a.extend(b);
            Value::Object(a)
        }
        (a, _) => a,
    }
}

fn book_no_path() -> Value {
    json!({ "name": "book_no", "in": "path", "required": true, "description": "账册/手册编号 (the book number).", "schema": { "type": "string" } })
}

fn decimal_in() -> Value {
    json!({ "description": "A decimal, preferably as a string in plain notation (\"1.35\"); a JSON number is read from its text.", "type": ["string", "number"] })
}

fn counts() -> Value {
    json!({ "type": "array", "items": { "$ref": "#/components/schemas/Count" } })
}

/// The OpenAPI document.
pub(crate) fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "加贸 Jiamao API — 加工贸易保税账册",
            "version": "1",
            "description": "The JSON API of Jiamao, a bonded ledger for China processing trade. Documents follow the interchange format (FORMAT.md). Errors are {\"error\": {rule, message, field?}}. Every operation but the login (POST /api/v1/session), /healthz and this description needs an API token (Authorization: Bearer jm_…) or the session cookie jiamao_session; a change made with the cookie also needs the session's CSRF token in X-CSRF-Token. Without valid credentials the answer is 401 unauthenticated, the same whatever was wrong (unknown, expired, revoked, a disabled account). What an account may do follows its role and jurisdiction: a refusal is 403 forbidden with no detail (the reason goes to the audit trail), and the data of a book the account may not see answers 404 unknown_book exactly as a book that does not exist. The web pages at /, /books/{book_no} and /login are HTML and not part of this description."
        },
        "paths": secured(merged(merged(merged(merged(paths(), tax_paths()), platform_paths()), dept_paths()), policy_paths())),
        "components": {
            "schemas": merged(merged(merged(merged(schemas(), tax_schemas()), platform_schemas()), dept_schemas()), policy_schemas()),
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "jm_<token_id>_<secret>",
                    "description": "An API token (POST /api/v1/tokens, or jiamao token issue): Authorization: Bearer jm_…. A read-only token may read what its account may read and change nothing."
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "The browser session opened by POST /api/v1/session (HttpOnly, SameSite=Strict, 12 hours). Changes made with it also need csrfToken."
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "The CSRF token of the session (the csrf member of the login answer, also in the jiamao_csrf cookie): required with the session cookie on every change (any method but GET and HEAD), else 403 csrf."
                }
            }
        },
        "security": [{ "bearerToken": [] }, { "sessionCookie": [] }]
    })
}

/// The public operations: no credentials needed.
const PUBLIC: &[(&str, &str)] = &[("/healthz", "get"), ("/api/openapi.json", "get"), ("/api/v1/session", "post")];

/// Adds what authentication does to every operation: `security: []` on the public ones; on the
/// others the 401 answer, and on changes the CSRF requirement of the session cookie and the 403
/// answer; a 404 unknown_book also stands for a book the account may not see.
fn secured(mut paths: Value) -> Value {
    let Some(paths_map) = paths.as_object_mut() else { return paths };
    for (path, item) in paths_map.iter_mut() {
        let Some(ops) = item.as_object_mut() else { continue };
        for (method, op) in ops.iter_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            if PUBLIC.contains(&(path.as_str(), method.as_str())) {
                op.insert("security".into(), json!([]));
                continue;
            }
            let change = method != "get";
            if change {
                op.insert("security".into(), json!([{ "bearerToken": [] }, { "sessionCookie": [], "csrfToken": [] }]));
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            responses.entry("401").or_insert_with(unauthenticated);
            if change {
                responses.entry("403").or_insert_with(|| {
                    error_response("Refused: the account may not do this (rule forbidden: its role, its jurisdiction, or a read-only token; no detail is given), or a change made with the session cookie lacks a valid X-CSRF-Token (rule csrf).")
                });
            }
            if let Some(not_found) = responses.get_mut("404").and_then(Value::as_object_mut) {
                let described = not_found.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
                if described.contains("unknown_book") {
                    not_found
                        .insert("description".into(), json!(format!("{described} The same answer when the account may not see the book (or may not do this on it): nothing says whether it exists.")));
                }
            }
        }
    }
    paths
}

fn unauthenticated() -> Value {
    json!({
        "description": "Not authenticated (rule unauthenticated): no credentials, or a token or session that is unknown, expired, revoked or of a disabled account. The answer is the same whatever was wrong.",
        "headers": { "WWW-Authenticate": { "description": "Bearer realm=\"jiamao\"", "schema": { "type": "string" } } },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn forbidden(what: &str) -> Value {
    error_response(&format!("Refused (rule forbidden, no detail; the reason goes to the audit trail): {what}"))
}

fn strict_body(description: &str, schema_ref: &str) -> Value {
    json!({ "description": description, "required": true, "content": { "application/json": { "schema": { "$ref": schema_ref } } } })
}

fn set_cookie(what: &str) -> Value {
    json!({ "description": what, "schema": { "type": "string" } })
}

/// The routes of the platform: the session, accounts, tokens, the event feed, the audit chains.
fn platform_paths() -> Value {
    let no_content = |what: &str| json!({ "description": what });
    json!({
        "/api/v1/session": {
            "post": {
                "operationId": "login",
                "summary": "Log in with a password: opens a browser session.",
                "description": "Sets the session cookie jiamao_session (HttpOnly, SameSite=Strict) and jiamao_csrf, and answers the CSRF token to send as X-CSRF-Token with every change made with the cookie. After 5 failed logins of one account within 15 minutes, the account's logins are refused (429) for the rest of the window, whatever the password.",
                "requestBody": strict_body("The login and password.", "#/components/schemas/LoginRequest"),
                "responses": {
                    "200": {
                        "description": "Logged in.",
                        "headers": { "Set-Cookie": set_cookie("jiamao_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200, and jiamao_csrf=…") },
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Session" } } }
                    },
                    "401": error_response("The login or the password is wrong, or the account is disabled (rule unauthenticated): the same answer for all, and for a login that does not exist."),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("The body is not a login document (rule document_format)."),
                    "429": {
                        "description": "Too many failed logins of this account (rule throttled).",
                        "headers": { "Retry-After": { "description": "Seconds until logins of the account are accepted again.", "schema": { "type": "integer", "minimum": 1 } } },
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                    },
                    "500": error_response("A fault of the server.")
                }
            },
            "delete": {
                "operationId": "logout",
                "summary": "Log out: the session cookie stops working.",
                "description": "With a session cookie, ends that session (a change: X-CSRF-Token required). With a bearer token there is no session to end; the answer is the same.",
                "responses": {
                    "204": {
                        "description": "Logged out; the cookies are cleared.",
                        "headers": { "Set-Cookie": set_cookie("jiamao_session=; Max-Age=0, and jiamao_csrf=; Max-Age=0") }
                    },
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/me": {
            "get": {
                "operationId": "me",
                "summary": "The account the request acts as: login, role, jurisdiction, and whether the token is read-only.",
                "responses": {
                    "200": ok("The identity.", json!({ "$ref": "#/components/schemas/Me" })),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "The accounts the caller manages (never a password or its hash).",
                "description": "The system administrator sees every account; an enterprise administrator the accounts of its enterprise.",
                "responses": {
                    "200": ok("The accounts, by login.", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Account" } })),
                    "403": forbidden("the role does not manage accounts."),
                    "500": error_response("A fault of the server.")
                }
            },
            "post": {
                "operationId": "addUser",
                "summary": "Add an account with its role, jurisdiction and password (stored as an argon2id hash).",
                "description": "The jurisdiction fields follow the role: enterprise roles and banks name their enterprise; customs officers their 4-digit customs district; commerce officers their 2-digit province; tax, foreign-exchange and inspection officers at most a province; the auditor and the administrator nothing. An enterprise administrator adds enterprise accounts of its own enterprise only.",
                "requestBody": strict_body("The new account.", "#/components/schemas/NewAccount"),
                "responses": {
                    "201": ok("The account was added.", json!({ "$ref": "#/components/schemas/Account" })),
                    "403": forbidden("the role does not manage accounts, or not of that enterprise or role."),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("The account was refused: document_format (field names the place, for example an unknown role), or rule rejected (a login of 1 to 64 characters without spaces, a password of at least 10 characters, jurisdiction fields that fit the role, a valid enterprise code, a login not yet taken)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/users/{login}/disable": {
            "post": {
                "operationId": "disableUser",
                "summary": "Disable an account: its tokens and sessions stop working at once.",
                "parameters": [{ "name": "login", "in": "path", "required": true, "description": "The account's login.", "schema": { "type": "string" } }],
                "responses": {
                    "204": no_content("The account is disabled."),
                    "403": forbidden("the role does not manage accounts, or not this one (the same answer whether the account exists or not)."),
                    "422": error_response("There is no such account (rule rejected)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/tokens": {
            "post": {
                "operationId": "issueToken",
                "summary": "Issue an API token for an account: the token is in the answer once and never stored (only its hash).",
                "description": "An account issues tokens for itself; whoever manages accounts, for the accounts it manages.",
                "requestBody": strict_body("Whose token, read-only or not, and when it expires.", "#/components/schemas/TokenRequest"),
                "responses": {
                    "201": ok("The token (keep it: it cannot be shown again).", json!({ "$ref": "#/components/schemas/IssuedToken" })),
                    "403": forbidden("a token for another account that the caller does not manage."),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("Refused: document_format (field names the place; expires_at must be RFC 3339), or rule rejected (no such account, or it is disabled)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/tokens/{token_id}": {
            "delete": {
                "operationId": "revokeToken",
                "summary": "Revoke an API token: it stops working at once.",
                "description": "An account revokes its own tokens; whoever manages accounts, the tokens of the accounts it manages.",
                "parameters": [{ "name": "token_id", "in": "path", "required": true, "description": "The token's id (token_id of the issue answer: the part after jm_ and before the secret).", "schema": { "type": "string" } }],
                "responses": {
                    "204": no_content("The token is revoked."),
                    "403": forbidden("another account's token, and the caller does not manage accounts."),
                    "404": error_response("There is no such token, or it was revoked before (rule unknown_token)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/events": {
            "get": {
                "operationId": "events",
                "summary": "The business events the account may see (by role and jurisdiction), in commit order, after a cursor.",
                "description": "Pass the answer's next as after to continue: every event the account may see arrives once, in order. An empty page means there is nothing newer yet.",
                "parameters": [
                    { "name": "after", "in": "query", "required": false, "description": "The cursor: events with a larger id (default 0, from the start).", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "limit", "in": "query", "required": false, "description": "At most this many events (default 100, at most 1000).", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } }
                ],
                "responses": {
                    "200": ok("A page of events and the next cursor.", json!({ "$ref": "#/components/schemas/EventPage" })),
                    "400": error_response("A query parameter is malformed or unknown (rule bad_query)."),
                    "403": forbidden("the role reads no events."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/audit/verify": {
            "get": {
                "operationId": "auditVerify",
                "summary": "Walk every audit chain (hash-linked) and check every posted list against the digest recorded when it was posted.",
                "responses": {
                    "200": ok("The verification: intact is false when a chain is broken or a list altered.", json!({ "$ref": "#/components/schemas/AuditReport" })),
                    "403": forbidden("the role does not read the audit trail."),
                    "500": error_response("A fault of the server.")
                }
            }
        }
    })
}

/// The schemas of the platform.
fn platform_schemas() -> Value {
    let role = json!({ "$ref": "#/components/schemas/Role" });
    let nullable = |description: &str| json!({ "type": ["string", "null"], "description": description });
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let kinds: Vec<&str> = EVENT_POLICY.iter().map(|(k, _)| *k).collect();
    let timestamp = json!({ "type": "string", "format": "date-time", "description": "RFC 3339, UTC." });
    json!({
        "Role": { "type": "string", "enum": roles, "description": "A role of the platform (FORMAT.md \"Enterprises, credit, accounts, server\")." },
        "LoginRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["login", "password"],
            "properties": { "login": { "type": "string" }, "password": { "type": "string", "format": "password" } }
        },
        "Session": {
            "type": "object",
            "required": ["login", "role", "csrf", "expires_at"],
            "properties": {
                "login": { "type": "string" },
                "role": role,
                "csrf": { "type": "string", "description": "The CSRF token: send it as X-CSRF-Token with every change made with the session cookie." },
                "expires_at": timestamp
            }
        },
        "Me": {
            "type": "object",
            "required": ["login", "role", "role_zh", "enterprise", "customs", "province", "read_only"],
            "properties": {
                "login": { "type": "string" },
                "role": role,
                "role_zh": { "type": "string", "description": "The role's Chinese name." },
                "enterprise": nullable("Enterprise roles and banks: the enterprise's unified social credit code."),
                "customs": nullable("Customs roles: the 4-digit customs district."),
                "province": nullable("Commerce (and optionally tax, FX, inspection) officers: the 2-digit province code."),
                "read_only": { "type": "boolean", "description": "The request carries a read-only token." }
            }
        },
        "Account": {
            "type": "object",
            "required": ["login", "role", "disabled", "created_at"],
            "properties": {
                "login": { "type": "string" },
                "role": role,
                "enterprise": { "type": "string" },
                "customs": { "type": "string" },
                "province": { "type": "string" },
                "disabled": { "type": "boolean" },
                "created_at": timestamp
            }
        },
        "NewAccount": {
            "type": "object",
            "additionalProperties": false,
            "required": ["login", "role", "password"],
            "properties": {
                "login": { "type": "string", "minLength": 1, "maxLength": 64, "description": "No spaces." },
                "role": role,
                "enterprise": { "type": "string", "description": "Unified social credit code (enterprise roles, bank)." },
                "customs": { "type": "string", "pattern": "^[0-9]{4}$", "description": "Customs district (customs roles)." },
                "province": { "type": "string", "pattern": "^[0-9]{2}$", "description": "Province code (commerce officers; optional for tax, FX and inspection officers)." },
                "password": { "type": "string", "format": "password", "minLength": 10 }
            }
        },
        "TokenRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["login"],
            "properties": {
                "login": { "type": "string", "description": "The account the token acts as." },
                "read_only": { "type": "boolean", "default": false, "description": "A read-only token: every change is refused." },
                "expires_at": { "type": "string", "format": "date-time", "description": "RFC 3339 (2026-12-31T00:00:00Z); no expiry when absent." }
            }
        },
        "IssuedToken": {
            "type": "object",
            "required": ["token_id", "login", "read_only", "token"],
            "properties": {
                "token_id": { "type": "string", "description": "The id to revoke it by." },
                "login": { "type": "string" },
                "read_only": { "type": "boolean" },
                "expires_at": timestamp,
                "token": { "type": "string", "description": "jm_<token_id>_<secret>: shown this once, never stored." }
            }
        },
        "Event": {
            "type": "object",
            "required": ["id", "enterprise", "kind", "at", "body"],
            "properties": {
                "id": { "type": "integer", "description": "Increasing in commit order: the cursor." },
                "enterprise": { "type": "string", "description": "The enterprise concerned; empty for national data (tariff, rates)." },
                "kind": { "type": "string", "enum": kinds },
                "at": timestamp,
                "body": { "type": "object", "description": "What happened: book_no, list_no, revision, cycle_no, … with the book's master_customs and region; name, valid_from and entries for national data." }
            }
        },
        "EventPage": {
            "type": "object",
            "required": ["events", "next"],
            "properties": {
                "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } },
                "next": { "type": "integer", "description": "Pass as after to continue." }
            }
        },
        "AuditChain": {
            "type": "object",
            "required": ["chain", "links", "head_seq", "head_hash"],
            "properties": {
                "chain": { "type": "string", "description": "An enterprise's unified social credit code, or system (accounts, logins, refusals, national data)." },
                "links": { "type": "integer", "minimum": 0 },
                "head_seq": { "type": "integer" },
                "head_hash": { "type": "string" },
                "broken_at": { "type": "integer", "description": "The first link that does not verify (absent when the chain is intact)." },
                "reason": { "type": "string" }
            }
        },
        "AlteredList": {
            "type": "object",
            "required": ["enterprise", "list_no", "chain", "seq"],
            "properties": { "enterprise": { "type": "string" }, "list_no": { "type": "string" }, "chain": { "type": "string" }, "seq": { "type": "integer", "description": "The link that recorded its posting." } }
        },
        "AuditReport": {
            "type": "object",
            "required": ["intact", "chains", "lists_checked", "altered_lists"],
            "properties": {
                "intact": { "type": "boolean" },
                "chains": { "type": "array", "items": { "$ref": "#/components/schemas/AuditChain" } },
                "lists_checked": { "type": "integer", "minimum": 0 },
                "altered_lists": { "type": "array", "items": { "$ref": "#/components/schemas/AlteredList" }, "description": "Posted lists whose stored content no longer has the digest recorded at their posting." }
            }
        }
    })
}

/// A CSV request body (a department's file): its header line, and what a row holds.
fn csv_body(description: &str, header: &str) -> Value {
    json!({
        "description": format!("{description} CSV, UTF-8; the first line (after blank and # comment lines) is exactly the header {header}; then one row per line, cells separated by commas. A file with any bad row is refused whole (422 file_invalid, every problem named with its line: request body:<line>)."),
        "required": true,
        "content": { "text/csv": { "schema": { "type": "string", "description": format!("Header: {header}") }, "example": format!("{header}\n") } }
    })
}

fn uscc_path() -> Value {
    json!({ "name": "uscc", "in": "path", "required": true, "description": "统一社会信用代码 of the enterprise (18 characters, GB 32100-2015).", "schema": { "type": "string", "pattern": "^[0-9A-Z]{18}$" } })
}

/// The routes of the departments: their files (FX receipts, the VAT the tax side expects), the
/// cross-checks against the ledger, and webhook subscriptions (docs/platform.md).
fn dept_paths() -> Value {
    let load = |operation: &str, summary: &str, description: &str, header: &str, who: &str| {
        json!({
            "post": {
                "operationId": operation,
                "summary": summary,
                "description": description,
                "requestBody": csv_body("The department's file.", header),
                "responses": {
                    "200": ok("What was recorded: new rows, and rows recorded before with the same content (duplicates, nothing changed).", json!({ "$ref": "#/components/schemas/DepartmentLoad" })),
                    "400": error_response("The body could not be read (rule bad_body)."),
                    "403": forbidden(&format!("the role does not hand over department data ({who}), a read-only token, or an enterprise of the file outside the account's jurisdiction or with no book (the same answer whether the enterprise exists or not); nothing was loaded.")),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("Nothing was loaded: file_invalid (the header, a cell, a duplicate key: every problem with its line), document_format (not UTF-8), or rejected (a key already recorded with other content; a correction is a new record under a new key)."),
                    "500": error_response("A fault of the server; nothing was loaded.")
                }
            }
        })
    };
    let check_refused = "the role does not read cross-checks, or the enterprise is outside the account's jurisdiction (enterprise roles: their own; customs officers: a district where the enterprise has a book; tax and FX officers: nationwide or the province of one of its books; the auditor: all), or it has no book: the same answer whether the enterprise exists or not.";
    json!({
        "/api/v1/crosscheck/fx-receipts": load(
            "loadFxReceipts",
            "Hand over the FX side's receipts (外汇收汇); idempotent by (enterprise, receipt_no).",
            "Loaded by FX officers (jiamao crosscheck fx-load). amount is in the currency's units; currency a customs currency code (502 USD …); list_no may be empty (a receipt need not name a list).",
            "enterprise,receipt_no,received_on,currency,amount,list_no",
            "FX officers"
        ),
        "/api/v1/crosscheck/vat-expectations": load(
            "loadVatExpectations",
            "Hand over the VAT the tax side expects (税务), by enterprise and period; idempotent by (enterprise, period).",
            "Loaded by tax officers (jiamao crosscheck vat-load). period as Jiamao labels periods (2026-05, 2026Q2, or a list number for a list declared on its own); vat_expected in CNY.",
            "enterprise,period,vat_expected",
            "tax officers"
        ),
        "/api/v1/enterprises/{uscc}/crosscheck/fx": {
            "get": {
                "operationId": "fxCrossCheck",
                "summary": "FX receipts against the export values declared on the enterprise's lists (product exports and material re-exports with an amount), per currency, from from to to.",
                "description": "A currency is flagged when its receipts fall short of its exports by more than tolerance × exported; the check is flagged when a row is, or a receipt names a list that is not an export of the enterprise. Export lists that no receipt names are listed (informational).",
                "parameters": [
                    uscc_path(),
                    required_date_query("from", "Required: the first day of the period (YYYY-MM-DD): lists declared and receipts received from this day."),
                    required_date_query("to", "Required: the last day of the period (YYYY-MM-DD)."),
                    { "name": "tolerance", "in": "query", "required": false, "description": "The share of the exports receipts may fall short by before a currency is flagged (0.05 = 5 %; default 0), a plain non-negative decimal.", "schema": { "$ref": "#/components/schemas/Decimal" } }
                ],
                "responses": {
                    "200": ok("The cross-check.", json!({ "$ref": "#/components/schemas/FxCheck" })),
                    "400": error_response("uscc is not a valid unified social credit code (rule bad_path), or from or to is missing or not a date, tolerance is not a non-negative decimal, or another query parameter is given (rule bad_query); field names it."),
                    "403": forbidden(check_refused),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/enterprises/{uscc}/crosscheck/vat": {
            "get": {
                "operationId": "vatCrossCheck",
                "summary": "Per period, the VAT assessed on the enterprise's domestic sales (the tax quotes) and the tax paid, against the VAT the tax side expects.",
                "description": "A period is flagged on any difference, when the tax side reported nothing for it, when the assessed tax is not fully paid, or when its sales could not all be quoted (a missing tariff line or rate); reason says which.",
                "parameters": [uscc_path(), required_date_query("as_of", "Required: the day up to which lists and payments count (YYYY-MM-DD); the server does not assume today.")],
                "responses": {
                    "200": ok("The cross-check.", json!({ "$ref": "#/components/schemas/VatCheck" })),
                    "400": error_response("uscc is not a valid unified social credit code (rule bad_path), or as_of is missing or not a date, or another query parameter is given (rule bad_query); field names it."),
                    "403": forbidden(check_refused),
                    "422": error_response("A period cannot be settled (for example rule rate_missing: no late-payment surcharge rate for a day)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/webhooks": {
            "get": {
                "operationId": "listWebhooks",
                "summary": "The caller's webhook subscriptions, with the last event delivered to each.",
                "responses": {
                    "200": ok("The subscriptions.", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Webhook" } })),
                    "403": forbidden("the role reads no events."),
                    "500": error_response("A fault of the server.")
                }
            },
            "post": {
                "operationId": "addWebhook",
                "summary": "Subscribe a URL to kinds of events, as the caller: each event the caller's account may see (when it is delivered) is POSTed to it, signed, in order, at least once.",
                "description": "Deliveries run in the server started with a webhook key (jiamao serve --webhook-key) or with jiamao webhook deliver: see docs/platform.md, \"Events and webhooks\". Only http:// URLs for now (put a TLS relay in front for https).",
                "requestBody": strict_body("The URL and the kinds of events (none: every kind the account may see).", "#/components/schemas/WebhookRequest"),
                "responses": {
                    "201": ok("Subscribed.", json!({ "$ref": "#/components/schemas/Webhook" })),
                    "400": error_response("The body could not be read (rule bad_body)."),
                    "403": forbidden("the role reads no events, or a read-only token."),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("Refused: document_format (field names the place), or rule rejected (a URL that is not http://host[:port]/path, https included; an unknown event kind)."),
                    "500": error_response("A fault of the server.")
                }
            }
        }
    })
}

/// The routes of policy as dated data: catalogs, credit, guarantees, 单耗 against the standards and its
/// review.
fn policy_paths() -> Value {
    let not_found = || error_response("The book is not known (rule unknown_book).");
    let fault = || error_response("A fault of the server.");
    let too_large = || error_response("The body is larger than the server accepts (16 MiB).");
    let name_path = |name: &str, description: &str| json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } });
    let check_parameters = json!([
        book_no_path(),
        date_query("as_of", "Compare with the standards documents loaded with valid_from on or before this date (YYYY-MM-DD; default: every document loaded)."),
        { "name": "export_taxable", "in": "query", "required": false, "description": "The seqs of the products taxable on export, separated by commas (1,2): their standard is a minimum (RULES.md §4.5).", "schema": { "type": "string", "pattern": "^[0-9]+(,[0-9]+)*$" } }
    ]);
    let check_400 = || error_response("as_of is not a date, export_taxable is not a list of product seqs, or another query parameter is given (rule bad_query, field names it).");
    let catalog_body = json!({
        "description": "The catalog file (FORMAT.md \"Catalog file\"): CSV, UTF-8, with the header hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement; catalog prohibited or restricted, direction import, export or both, mode empty or 实转, valid_until empty (open) or the last day in force. A file with any bad row is refused whole (422 file_invalid, every problem named with its line: request body:<line>).",
        "required": true,
        "content": { "text/csv": { "schema": { "type": "string" }, "example": "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement\n2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号\n" } }
    });
    json!({
        "/api/v1/catalogs": {
            "get": {
                "operationId": "listCatalogs",
                "summary": "The loaded catalog versions (禁止类 / 限制类目录), in load order: the last is in force.",
                "responses": {
                    "200": ok("The versions.", json!({ "type": "array", "items": { "$ref": "#/components/schemas/CatalogVersionInfo" } })),
                    "403": forbidden("the role reads no policy data."),
                    "500": fault()
                }
            }
        },
        "/api/v1/catalogs/{name}": {
            "post": {
                "operationId": "loadCatalog",
                "summary": "Preview or load a catalog version: its impact on the books the caller may read (every item newly prohibited or restricted, or no longer), from as_of on, against the version in force.",
                "description": "With preview=true nothing is loaded. With preview=false the version is loaded and replaces the one in force as a whole (time travel happens inside it, by the entries' dates); the same name with the same content again changes nothing (200, status unchanged, empty impact); other content under a taken name is refused (rule policy_name_taken, field name). Loading policy is for customs supervisors and the administrator.",
                "parameters": [
                    name_path("name", "The version's name (unique)."),
                    { "name": "preview", "in": "query", "required": true, "description": "true: show the impact and load nothing; false: load the version.", "schema": { "type": "string", "enum": ["true", "false"] } },
                    date_query("as_of", "The first day the impact counts (YYYY-MM-DD; default: the day of the request, UTC).")
                ],
                "requestBody": catalog_body,
                "responses": {
                    "200": ok("preview=true: the impact, nothing loaded (CatalogPreview); preview=false: the same version was loaded before, nothing changed (CatalogLoad, status unchanged).", json!({ "oneOf": [{ "$ref": "#/components/schemas/CatalogPreview" }, { "$ref": "#/components/schemas/CatalogLoad" }] })),
                    "201": ok("The version was loaded and is now in force, with its impact.", json!({ "$ref": "#/components/schemas/CatalogLoad" })),
                    "400": error_response("preview is missing or neither true nor false, as_of is not a date, or another query parameter is given (rule bad_query, field names it); or the body could not be read (rule bad_body)."),
                    "403": forbidden("the role does not load policy data (customs supervisors and the administrator do), or a read-only token."),
                    "413": too_large(),
                    "422": error_response("Nothing was loaded: file_invalid (every problem of the file with its line), document_format (not UTF-8), policy_name_taken (field name: other content under this name), or catalog_invalid."),
                    "500": fault()
                }
            }
        },
        "/api/v1/catalogs/{from}/diff/{to}": {
            "get": {
                "operationId": "catalogDiff",
                "summary": "What changed between two loaded catalog versions, by key (hs_code, direction, note).",
                "parameters": [name_path("from", "The earlier version's name."), name_path("to", "The later version's name.")],
                "responses": {
                    "200": ok("The difference.", json!({ "$ref": "#/components/schemas/CatalogDiff" })),
                    "403": forbidden("the role reads no policy data."),
                    "422": error_response("No version of that name is loaded (rule catalog_unknown, field from or to)."),
                    "500": fault()
                }
            }
        },
        "/api/v1/catalog/{hs_code}": {
            "get": {
                "operationId": "catalogCheck",
                "summary": "The catalog entries in force for an HS code on a date (jiamao catalog check --json): of the version in force, by the entries' dates, so a past date answers with what was in force then.",
                "parameters": [
                    { "name": "hs_code", "in": "path", "required": true, "description": "10-digit HS code.", "schema": { "type": "string", "pattern": "^[0-9]{10}$" } },
                    required_date_query("date", "Required: the day asked about (YYYY-MM-DD).")
                ],
                "responses": {
                    "200": ok("The entries in force that day (empty when none, or when no catalog is loaded).", json!({ "$ref": "#/components/schemas/CatalogCheck" })),
                    "400": error_response("hs_code is not 10 digits (rule bad_path), or date is missing or not a date, or another query parameter is given (rule bad_query); field names it."),
                    "403": forbidden("the role reads no policy data."),
                    "500": fault()
                }
            }
        },
        "/api/v1/enterprises/{uscc}/credit": {
            "get": {
                "operationId": "credit",
                "summary": "An enterprise's credit (海关信用): its history and the class in force on as_of, with the tier and its effects.",
                "description": "No class recorded: 一般信用 (general) by default, defaulted true.",
                "parameters": [uscc_path(), required_date_query("as_of", "Required: the day whose class is asked for (YYYY-MM-DD); the server does not assume today.")],
                "responses": {
                    "200": ok("The credit.", json!({ "$ref": "#/components/schemas/CreditView" })),
                    "400": error_response("uscc is not a valid unified social credit code (rule bad_path), or as_of is missing or not a date, or another query parameter is given (rule bad_query); field names it."),
                    "403": forbidden("the role does not read reports, or the enterprise is outside the account's jurisdiction (the same answer whether the enterprise exists or not)."),
                    "500": fault()
                }
            },
            "post": {
                "operationId": "setCredit",
                "summary": "Record an enterprise's credit class from a date (customs); the same entry again changes nothing. Answers the credit as of that date.",
                "description": "The class is one of the scheme in force on from (RULES.md §12, §19): AA … D (Decree 170), 高级认证, 一般认证, 一般信用, 失信 (Decrees 225, 237; 251 without 一般认证), 高级认证企业, 认证企业, 常规企业, 失信企业, 严重失信企业 (Decree 282). A correction is an entry from another date.",
                "parameters": [uscc_path()],
                "requestBody": strict_body("The class, from when, and the decision's number.", "#/components/schemas/CreditRequest"),
                "responses": {
                    "200": ok("Recorded (or recorded before with the same content): the credit as of from.", json!({ "$ref": "#/components/schemas/CreditView" })),
                    "400": error_response("uscc is not a valid unified social credit code (rule bad_path, field uscc), or the body could not be read (rule bad_body)."),
                    "403": forbidden("the role does not record credit classes, the enterprise is outside the account's jurisdiction, or a read-only token."),
                    "413": too_large(),
                    "422": error_response("Refused: document_format (field names the place), or rule rejected (a class that is not one of the scheme in force on from, or another class already recorded from that date)."),
                    "500": fault()
                }
            }
        },
        "/api/v1/books/{book_no}/guarantee": {
            "get": {
                "operationId": "guarantee",
                "summary": "The guarantee of a book as of a date (jiamao guarantee --json): required (the regime of the book's date, the credit class in force, the regions, the restricted items of the catalog in force valued with the tariff's duty and VAT), posted, shortfall, alert, and the basis.",
                "parameters": [book_no_path(), required_date_query("as_of", "Required: the day computed for (YYYY-MM-DD); the server does not assume today.")],
                "responses": {
                    "200": ok("The guarantee.", json!({ "$ref": "#/components/schemas/GuaranteeReport" })),
                    "400": error_response("as_of is missing or not a date, or another query parameter is given (rule bad_query, field names it)."),
                    "404": not_found(),
                    "422": error_response("No guarantee regime applies (rule rejected: a book before 2007-08-23)."),
                    "500": fault()
                }
            }
        },
        "/api/v1/books/{book_no}/guarantees": {
            "post": {
                "operationId": "postGuarantee",
                "summary": "Record a guarantee posted for a book (customs officers of its district): cash (保证金) or a letter of guarantee (保函); idempotent by guarantee_no.",
                "parameters": [book_no_path()],
                "requestBody": strict_body("The guarantee.", "#/components/schemas/GuaranteeRequest"),
                "responses": {
                    "201": ok("The guarantee was recorded.", json!({ "$ref": "#/components/schemas/Recorded" })),
                    "200": ok("The same guarantee was recorded before (status duplicate); nothing changed.", json!({ "$ref": "#/components/schemas/Recorded" })),
                    "404": not_found(),
                    "413": too_large(),
                    "422": error_response("Refused: document_format (field names the place), record_differs (field guarantee_no: the number is recorded with other content), or rule rejected (form neither cash nor letter, an amount that is not positive, a letter without valid_until or ending before the book's expiry + 80 days)."),
                    "500": fault()
                }
            }
        },
        "/api/v1/books/{book_no}/guarantees/{guarantee_no}/refund": {
            "post": {
                "operationId": "refundGuarantee",
                "summary": "Refund a guarantee at write-off (customs officers of the book's district): cash earns interest from its posting to the refund, days × rate ÷ 360.",
                "description": "From 2025-08-01 the rate is the bank's demand rate and must be given (公告2025年第139号); before, the PBoC demand benchmark of the dated rates applies unless one is given.",
                "parameters": [book_no_path(), name_path("guarantee_no", "The guarantee's number.")],
                "requestBody": strict_body("The day of the refund and the interest rate.", "#/components/schemas/GuaranteeRefundRequest"),
                "responses": {
                    "200": ok("The refund with its interest (also when the same refund was recorded before).", json!({ "$ref": "#/components/schemas/GuaranteeRefund" })),
                    "404": not_found(),
                    "413": too_large(),
                    "422": error_response("Refused: document_format (field names the place), record_differs (another refund of this guarantee is recorded), a dated rate missing (rule rate_missing), or rule rejected (no such guarantee on the book, a refund before the posting, no rate given from 2025-08-01)."),
                    "500": fault()
                }
            }
        },
        "/api/v1/books/{book_no}/consumption-check": {
            "get": {
                "operationId": "consumptionCheck",
                "summary": "Every 单耗 line of the book (every version of every product) against the loaded national 单耗 standards: above the maximum, below the minimum for export-taxable products, within, or no standard; each match citing the standard.",
                "description": "Codes are matched as written: no HS 2022 nomenclature is loaded in the engine (hs2022.checked false says so); jiamao ucns check --hs2022 checks the correspondence.",
                "parameters": check_parameters.clone(),
                "responses": {
                    "200": ok("The check.", json!({ "$ref": "#/components/schemas/ConsumptionCheck" })),
                    "400": check_400(),
                    "404": not_found(),
                    "422": error_response("No standards to compare with (rule rejected: none loaded, or none loaded by as_of)."),
                    "500": fault()
                }
            }
        },
        "/api/v1/books/{book_no}/consumption-reviews": {
            "get": {
                "operationId": "consumptionReviews",
                "summary": "The review queue of the book's 单耗 versions: each version's state (declared, questioned 质疑, consulting 磋商, accepted, adjusted), its history and its lines against the loaded standards (none loaded: every line no_standard).",
                "parameters": check_parameters,
                "responses": {
                    "200": ok("The versions.", json!({ "$ref": "#/components/schemas/ConsumptionReviews" })),
                    "400": check_400(),
                    "404": not_found(),
                    "500": fault()
                }
            },
            "post": {
                "operationId": "reviewConsumption",
                "summary": "Review a 单耗 version (customs officers of the book's district): question (质疑) a declared one, consult (磋商) on a questioned one, accept it, or adjust it after consultation, naming the replacement version the enterprise files as a change (变更).",
                "parameters": [book_no_path()],
                "requestBody": strict_body("The version and what is done to it.", "#/components/schemas/ReviewRequest"),
                "responses": {
                    "201": ok("The transition was recorded.", json!({ "$ref": "#/components/schemas/Reviewed" })),
                    "404": not_found(),
                    "413": too_large(),
                    "422": error_response("Refused with its rule: document_format (field names the place; action is question, consult, accept or adjust), unknown_item, unknown_version, ucns_transition (not allowed from the version's state), ucns_review_final, ucns_replacement (adjust names another version; only adjust names one), ucns_self_verified (the enterprise self-verifies: no review)."),
                    "500": fault()
                }
            }
        }
    })
}

/// The schemas of policy as dated data.
fn policy_schemas() -> Value {
    let dec = json!({ "$ref": "#/components/schemas/Decimal" });
    let date = json!({ "$ref": "#/components/schemas/Date" });
    let count = json!({ "type": "integer", "minimum": 0 });
    let entries = json!({ "type": "array", "items": { "$ref": "#/components/schemas/CatalogEntry" } });
    let direction = json!({ "type": "string", "enum": ["import", "export", "both"] });
    let tier = json!({ "type": "string", "enum": ["advanced", "certified", "general", "untrustworthy", "severely_untrustworthy"], "description": "高级认证, 一般认证 / 认证企业, 一般信用 / 常规企业, 失信, 严重失信." });
    let method = json!({ "type": "string", "enum": ["formula2007", "matrix2015"], "description": "公告2007年第44号, or 公告2015年第63号." });
    let verdict = json!({ "type": "string", "enum": ["within", "above_maximum", "below_minimum", "no_standard", "not_comparable", "spec_dependent"] });
    let state = json!({ "type": "string", "enum": ["declared", "questioned", "consulting", "accepted", "adjusted"] });
    let action = json!({ "type": "string", "enum": ["question", "consult", "accept", "adjust"] });
    let guarantee_props = json!({
        "guarantee_no": { "type": "string", "description": "The guarantee's number: the idempotency key." },
        "form": { "type": "string", "enum": ["cash", "letter"], "description": "cash (保证金) or letter (保函)." },
        "amount": dec,
        "posted_on": date,
        "guarantor": { "type": "string", "description": "The issuing bank or guarantor (letters)." },
        "valid_until": { "$ref": "#/components/schemas/Date", "description": "A letter's last day (at least the book's expiry + 80 days)." }
    });
    let catalogs = json!({
        "CatalogEntry": {
            "type": "object",
            "required": ["hs_code", "catalog", "direction", "mode", "note", "valid_from", "valid_until", "announcement"],
            "properties": {
                "hs_code": { "type": "string" },
                "catalog": { "type": "string", "enum": ["prohibited", "restricted"] },
                "direction": direction,
                "mode": { "oneOf": [{ "type": "string", "const": "实转" }, { "type": "null" }], "description": "实转 (a guarantee on the bonded materials), or null." },
                "note": { "type": "string", "description": "The qualifier (医用物资除外); empty when none." },
                "valid_from": date,
                "valid_until": { "oneOf": [{ "$ref": "#/components/schemas/Date" }, { "type": "null" }], "description": "The last day in force (inclusive); null: open." },
                "announcement": { "type": "string", "description": "The announcement that made the entry." }
            }
        },
        "CatalogVersionInfo": {
            "type": "object",
            "required": ["name", "entries", "valid_from", "in_force"],
            "properties": {
                "name": { "type": "string" },
                "entries": count,
                "valid_from": { "oneOf": [{ "$ref": "#/components/schemas/Date" }, { "type": "null" }], "description": "The first day of its earliest entry." },
                "in_force": { "type": "boolean", "description": "The version in force (the latest loaded)." }
            }
        },
        "CatalogItemImpact": {
            "type": "object",
            "required": ["book_no", "enterprise", "goods", "item_seq", "hs_code", "name", "change", "from", "until", "entry", "transition"],
            "properties": {
                "book_no": { "type": "string" },
                "enterprise": { "type": "string", "description": "The operating enterprise (USCC)." },
                "goods": { "type": "string", "enum": ["material", "product"] },
                "item_seq": { "type": "integer" },
                "hs_code": { "type": "string" },
                "name": { "type": "string" },
                "change": { "type": "string", "enum": ["newly_prohibited", "newly_restricted", "no_longer_prohibited", "no_longer_restricted"] },
                "from": { "$ref": "#/components/schemas/Date", "description": "The first day of the book's validity (from the impact's as_of on) the change covers." },
                "until": { "$ref": "#/components/schemas/Date", "description": "The last such day." },
                "entry": { "$ref": "#/components/schemas/CatalogEntry", "description": "The entry behind the change: of the new version (newly …) or of the one in force (no longer …)." },
                "transition": { "type": "boolean", "description": "Newly prohibited, but the book's contract period began before the entry: under the transition rule (RULES.md §13.1, when on) its lists still post until it expires." }
            }
        },
        "CatalogImpact": {
            "type": "object",
            "required": ["version", "previous", "as_of", "entries", "added", "removed", "changed", "books", "items", "guarantees"],
            "properties": {
                "version": { "type": "string" },
                "previous": { "type": ["string", "null"], "description": "The version in force before (null: the first catalog)." },
                "as_of": { "$ref": "#/components/schemas/Date", "description": "The first day counted." },
                "entries": count,
                "added": { "type": "integer", "minimum": 0, "description": "Keys only in the new version." },
                "removed": { "type": "integer", "minimum": 0, "description": "Keys only in the version in force." },
                "changed": { "type": "integer", "minimum": 0, "description": "Keys in both whose entries differ." },
                "books": { "type": "array", "items": { "type": "string" }, "description": "The books with an item in items." },
                "items": { "type": "array", "items": { "$ref": "#/components/schemas/CatalogItemImpact" }, "description": "Every item of every book the caller may read whose catalog status changes." },
                "guarantees": { "type": "array", "items": { "$ref": "#/components/schemas/GuaranteeChange" }, "description": "Every book of books whose required guarantee on as_of changes under the version." }
            }
        },
        "GuaranteeChange": {
            "type": "object",
            "required": ["book_no", "before", "after"],
            "properties": {
                "book_no": { "type": "string" },
                "before": { "oneOf": [{ "$ref": "#/components/schemas/Decimal" }, { "type": "null" }], "description": "The amount required under the catalog in force (null: it could not be computed; note says why)." },
                "after": { "oneOf": [{ "$ref": "#/components/schemas/Decimal" }, { "type": "null" }], "description": "The amount required under the new version." },
                "note": { "type": "string", "description": "Why an amount could not be computed (no regime, no tariff line …)." }
            }
        },
        "CatalogPreview": {
            "type": "object",
            "required": ["status", "impact"],
            "properties": { "status": { "type": "string", "const": "preview" }, "impact": { "$ref": "#/components/schemas/CatalogImpact" } }
        },
        "CatalogLoad": {
            "type": "object",
            "required": ["name", "status", "impact"],
            "properties": {
                "name": { "type": "string" },
                "status": { "type": "string", "enum": ["loaded", "unchanged"], "description": "unchanged: the same version was loaded before (the impact then lists nothing)." },
                "impact": { "$ref": "#/components/schemas/CatalogImpact" }
            }
        },
        "CatalogKeyChange": {
            "type": "object",
            "required": ["hs_code", "direction", "note", "before", "after"],
            "properties": { "hs_code": { "type": "string" }, "direction": direction, "note": { "type": "string" }, "before": entries, "after": entries }
        },
        "CatalogDiff": {
            "type": "object",
            "required": ["from", "to", "added", "removed", "changed"],
            "properties": {
                "from": { "type": "string" },
                "to": { "type": "string" },
                "added": { "type": "array", "items": { "$ref": "#/components/schemas/CatalogEntry" }, "description": "Entries of keys only in to." },
                "removed": { "type": "array", "items": { "$ref": "#/components/schemas/CatalogEntry" }, "description": "Entries of keys only in from." },
                "changed": { "type": "array", "items": { "$ref": "#/components/schemas/CatalogKeyChange" } }
            }
        },
        "CatalogCheck": {
            "type": "object",
            "required": ["hs_code", "date", "entries"],
            "properties": { "hs_code": { "type": "string" }, "date": date, "entries": entries }
        }
    });
    let guarantees = json!({
        "CreditRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["class", "from"],
            "properties": {
                "class": { "type": "string", "description": "A class of the scheme in force on from." },
                "from": date,
                "decision": { "type": "string", "description": "The decision's number." }
            }
        },
        "CreditEntry": {
            "type": "object",
            "required": ["class", "from"],
            "properties": { "class": { "type": "string" }, "from": date, "decision": { "type": "string" } }
        },
        "CreditView": {
            "type": "object",
            "required": ["enterprise", "as_of", "history", "tier", "defaulted", "effects"],
            "properties": {
                "enterprise": { "type": "string" },
                "as_of": date,
                "history": { "type": "array", "items": { "$ref": "#/components/schemas/CreditEntry" }, "description": "Every class recorded, by from." },
                "class": { "type": "string", "description": "The class in force (absent when none is recorded)." },
                "scheme": { "type": "string", "description": "The decree of the class's scheme (170, 225, 237, 251, 282)." },
                "tier": tier,
                "defaulted": { "type": "boolean", "description": "The tier is the default (no class recorded: 一般信用)." },
                "effects": {
                    "type": "object",
                    "required": ["processing_trade", "outward_processing", "self_verification"],
                    "properties": {
                        "processing_trade": { "type": "boolean", "description": "Processing trade allowed." },
                        "outward_processing": { "type": "boolean", "description": "Outward processing (出境加工) allowed." },
                        "self_verification": { "type": "boolean", "description": "Self-verified 单耗 (企业自核单耗): a policy (RULES.md §4.8)." }
                    }
                }
            }
        },
        "GuaranteeRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["guarantee_no", "form", "amount", "posted_on"],
            "properties": merged(guarantee_props.clone(), json!({ "amount": decimal_in() }))
        },
        "GuaranteeRefundRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["refunded_on"],
            "properties": {
                "refunded_on": date,
                "rate": merged(decimal_in(), json!({ "description": "The yearly interest rate as a fraction (0.0035): the bank's demand rate, required from 2025-08-01; before, default the PBoC demand benchmark." }))
            }
        },
        "GuaranteeRefund": {
            "type": "object",
            "required": ["guarantee_no", "refunded_on", "interest_rate", "interest_rate_source", "days", "interest"],
            "properties": {
                "guarantee_no": { "type": "string" },
                "refunded_on": date,
                "interest_rate": dec,
                "interest_rate_source": { "type": "string" },
                "days": { "type": "integer", "description": "From the posting to the refund." },
                "interest": { "$ref": "#/components/schemas/Decimal", "description": "Cash: amount × days × rate ÷ 360, rounded to 0.01; letters: 0." }
            }
        },
        "GuaranteeState": {
            "type": "object",
            "required": ["guarantee_no", "form", "amount", "posted_on", "active"],
            "properties": merged(guarantee_props, json!({
                "refund": { "$ref": "#/components/schemas/GuaranteeRefund" },
                "active": { "type": "boolean", "description": "Counts toward posted on as_of: posted by then, not refunded, a letter not expired." }
            }))
        },
        "GuaranteeLine": {
            "type": "object",
            "required": ["what", "base", "share", "amount", "rule"],
            "properties": { "what": { "type": "string" }, "base": dec, "share": dec, "amount": dec, "rule": { "type": "string" } }
        },
        "GuaranteeRequired": {
            "type": "object",
            "required": ["method", "amount", "lines", "not_allowed"],
            "properties": {
                "method": method,
                "amount": dec,
                "lines": { "type": "array", "items": { "$ref": "#/components/schemas/GuaranteeLine" } },
                "not_allowed": { "type": "boolean", "description": "Processing trade is not allowed at all for the credit tier (the amount is then moot)." }
            }
        },
        "GuaranteeReport": {
            "type": "object",
            "required": ["book_no", "as_of", "method", "holding", "source", "credit", "both_central_west", "zone", "required", "posted", "shortfall", "alert", "letter_valid_until", "guarantees", "unvalued"],
            "properties": {
                "book_no": { "type": "string" },
                "as_of": date,
                "method": method,
                "holding": { "type": "string", "enum": ["bank_deposit_ledger", "customs_guarantee"], "description": "银行保证金台账 (until 2018-02-01) or 海关事务担保." },
                "source": { "type": "string" },
                "credit": { "$ref": "#/components/schemas/CreditView" },
                "both_central_west": { "type": "boolean", "description": "The operator and the processor are both outside the eastern region." },
                "zone": { "type": "boolean" },
                "required": { "$ref": "#/components/schemas/GuaranteeRequired" },
                "posted": { "$ref": "#/components/schemas/Decimal", "description": "The active guarantees on as_of." },
                "shortfall": { "$ref": "#/components/schemas/Decimal", "description": "required − posted, not below 0." },
                "alert": { "type": "boolean", "description": "Required exceeds posted (担保不足)." },
                "letter_valid_until": { "$ref": "#/components/schemas/Date", "description": "A letter of guarantee must run at least to this day (the book's expiry + 80 days)." },
                "guarantees": { "type": "array", "items": { "$ref": "#/components/schemas/GuaranteeState" } },
                "unvalued": { "type": "array", "items": { "type": "string" }, "description": "Restricted materials whose value could not be computed (no tariff line or rate), and why." }
            }
        }
    });
    let consumption = json!({
        "NormsUsed": {
            "type": "object",
            "required": ["source", "rows", "standards"],
            "properties": {
                "source": { "type": "string", "enum": ["given", "loaded"] },
                "documents": { "type": "array", "items": { "type": "string" }, "description": "The loaded documents used, in load order." },
                "rows": count,
                "standards": count
            }
        },
        "HsUsed": {
            "type": "object",
            "required": ["checked", "subheadings", "note"],
            "properties": { "checked": { "type": "boolean" }, "subheadings": count, "note": { "type": "string" } }
        },
        "ConsumptionSummary": {
            "type": "object",
            "required": ["lines", "within", "above_maximum", "below_minimum", "no_standard", "not_comparable", "spec_dependent", "uncertain"],
            "properties": {
                "lines": count, "within": count, "above_maximum": count, "below_minimum": count, "no_standard": count, "not_comparable": count, "spec_dependent": count,
                "uncertain": { "type": "integer", "minimum": 0, "description": "Lines with an uncertain HS match." }
            }
        },
        "StandardUc": {
            "type": "object",
            "required": ["max", "min", "basis"],
            "properties": { "max": dec, "min": dec, "basis": { "type": "string" } }
        },
        "NormMatch": {
            "type": "object",
            "required": ["standard_no", "row", "source", "finished_code", "material_code", "value_kind", "verdict", "hs2022"],
            "properties": {
                "standard_no": { "type": "string" },
                "row": { "type": "string" },
                "source": { "type": "string" },
                "policy_basis": { "type": "string" },
                "finished_code": { "type": "string" },
                "material_code": { "type": "string" },
                "finished_spec": { "type": "string" },
                "material_spec": { "type": "string" },
                "value_kind": { "type": "string", "enum": ["net", "ucns", "loss_only"] },
                "standard": { "$ref": "#/components/schemas/StandardUc" },
                "verdict": verdict,
                "excess_per_unit": dec,
                "hs2022": { "type": "string", "enum": ["current", "uncertain", "unchecked"] },
                "hs_note": { "type": "string" },
                "reason": { "type": "string" }
            }
        },
        "ConsumptionLine": {
            "type": "object",
            "required": ["product_seq", "product_hs", "material_seq", "material_hs", "version", "valid_from", "uc", "export_taxable", "verdict", "uncertain", "standards"],
            "properties": {
                "product_seq": { "type": "integer" },
                "product_hs": { "type": "string" },
                "material_seq": { "type": "integer" },
                "material_hs": { "type": "string" },
                "version": { "type": "string" },
                "valid_from": date,
                "uc": { "$ref": "#/components/schemas/Decimal", "description": "The book's 单耗." },
                "net": dec,
                "loss_rate": { "$ref": "#/components/schemas/Decimal", "description": "有形 + 无形 loss rate (a fraction), when 净耗 was declared." },
                "export_taxable": { "type": "boolean" },
                "verdict": verdict,
                "uncertain": { "type": "boolean" },
                "standards": { "type": "array", "items": { "$ref": "#/components/schemas/NormMatch" } }
            }
        },
        "ConsumptionCheck": {
            "type": "object",
            "required": ["book_no", "norms", "hs2022", "summary", "lines"],
            "properties": {
                "book_no": { "type": "string" },
                "norms": { "$ref": "#/components/schemas/NormsUsed" },
                "hs2022": { "$ref": "#/components/schemas/HsUsed" },
                "summary": { "$ref": "#/components/schemas/ConsumptionSummary" },
                "lines": { "type": "array", "items": { "$ref": "#/components/schemas/ConsumptionLine" } }
            }
        },
        "ReviewStep": {
            "type": "object",
            "required": ["product_seq", "version", "n", "action", "from", "to", "by", "role", "at"],
            "properties": {
                "product_seq": { "type": "integer" },
                "version": { "type": "string" },
                "n": { "type": "integer", "minimum": 1 },
                "action": action,
                "from": state,
                "to": state,
                "replacement": { "type": "string" },
                "note": { "type": "string" },
                "by": { "type": "string", "description": "The login of the officer." },
                "role": { "type": "string" },
                "at": { "type": "string", "format": "date-time" }
            }
        },
        "VersionReview": {
            "type": "object",
            "required": ["product_seq", "product_hs", "version", "valid_from", "state", "self_verified", "open", "flagged_lines", "history", "lines"],
            "properties": {
                "product_seq": { "type": "integer" },
                "product_hs": { "type": "string" },
                "version": { "type": "string" },
                "valid_from": date,
                "state": state,
                "self_verified": { "type": "boolean", "description": "Accepted from its declaration by self-verification (企业自核单耗)." },
                "open": { "type": "boolean", "description": "Not accepted or adjusted yet." },
                "replacement": { "type": "string" },
                "replacement_filed": { "type": "boolean" },
                "flagged_lines": count,
                "history": { "type": "array", "items": { "$ref": "#/components/schemas/ReviewStep" } },
                "lines": { "type": "array", "items": { "$ref": "#/components/schemas/ConsumptionLine" } }
            }
        },
        "ConsumptionReviews": {
            "type": "object",
            "required": ["book_no", "enterprise", "master_customs", "norms", "hs2022", "states", "versions"],
            "properties": {
                "book_no": { "type": "string" },
                "enterprise": { "type": "string" },
                "master_customs": { "type": "string" },
                "norms": { "$ref": "#/components/schemas/NormsUsed" },
                "hs2022": { "$ref": "#/components/schemas/HsUsed" },
                "states": { "type": "object", "additionalProperties": { "type": "integer" }, "description": "Versions by state." },
                "versions": { "type": "array", "items": { "$ref": "#/components/schemas/VersionReview" } }
            }
        },
        "ReviewRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["product_seq", "version", "action"],
            "properties": {
                "product_seq": { "type": "integer", "minimum": 1 },
                "version": { "type": "string" },
                "action": action,
                "replacement": { "type": "string", "description": "adjust only: the version the enterprise files as a change." },
                "note": { "type": "string" }
            }
        },
        "Reviewed": {
            "type": "object",
            "required": ["book_no", "product_seq", "version", "n", "action", "from", "to"],
            "properties": {
                "book_no": { "type": "string" },
                "product_seq": { "type": "integer" },
                "version": { "type": "string" },
                "n": { "type": "integer", "minimum": 1 },
                "action": action,
                "from": state,
                "to": state,
                "replacement": { "type": "string" }
            }
        }
    });
    merged(merged(catalogs, guarantees), consumption)
}

/// The schemas of the departments' routes.
fn dept_schemas() -> Value {
    let dec = json!({ "$ref": "#/components/schemas/Decimal" });
    let date = json!({ "$ref": "#/components/schemas/Date" });
    let kinds: Vec<&str> = EVENT_POLICY.iter().map(|(k, _)| *k).collect();
    json!({
        "DepartmentLoad": {
            "type": "object",
            "required": ["recorded", "duplicates"],
            "properties": {
                "recorded": { "type": "integer", "minimum": 0, "description": "Rows recorded now." },
                "duplicates": { "type": "integer", "minimum": 0, "description": "Rows recorded before with the same content (nothing changed)." }
            }
        },
        "FxRow": {
            "type": "object",
            "required": ["currency", "exported", "received", "shortfall", "flagged"],
            "properties": {
                "currency": { "type": "string", "description": "Customs currency code." },
                "exported": { "$ref": "#/components/schemas/Decimal", "description": "Export values declared in the period, in the currency." },
                "received": { "$ref": "#/components/schemas/Decimal", "description": "Receipts in the period." },
                "shortfall": { "$ref": "#/components/schemas/Decimal", "description": "exported − received (positive: receipts short of exports)." },
                "received_ratio": { "$ref": "#/components/schemas/Decimal", "description": "received ÷ exported, 6 places (absent when nothing was exported)." },
                "flagged": { "type": "boolean" }
            }
        },
        "UnpaidList": {
            "type": "object",
            "required": ["book_no", "list_no", "declared_on", "currency", "amount"],
            "properties": { "book_no": { "type": "string" }, "list_no": { "type": "string" }, "declared_on": date, "currency": { "type": "string" }, "amount": dec }
        },
        "FxCheck": {
            "type": "object",
            "required": ["enterprise", "from", "to", "tolerance", "rows", "lists_without_named_receipt", "receipts_naming_unknown_lists", "flagged"],
            "properties": {
                "enterprise": { "type": "string" },
                "from": date,
                "to": date,
                "tolerance": dec,
                "rows": { "type": "array", "items": { "$ref": "#/components/schemas/FxRow" }, "description": "One per currency, by currency code." },
                "lists_without_named_receipt": { "type": "array", "items": { "$ref": "#/components/schemas/UnpaidList" }, "description": "Export lists of the period that no receipt names (informational: receipts need not name lists)." },
                "receipts_naming_unknown_lists": { "type": "array", "items": { "type": "string" }, "description": "Receipt numbers that name a list the enterprise did not declare as an export." },
                "flagged": { "type": "boolean" }
            }
        },
        "VatRow": {
            "type": "object",
            "required": ["period", "vat_assessed", "paid", "flagged", "reason"],
            "properties": {
                "period": { "type": "string", "description": "2026-05, 2026Q2, or a list number for a list declared on its own." },
                "vat_assessed": { "$ref": "#/components/schemas/Decimal", "description": "VAT assessed on the period's domestic sales, CNY." },
                "paid": { "$ref": "#/components/schemas/Decimal", "description": "Tax paid on the period (duty, consumption tax, VAT and interest together), CNY." },
                "vat_expected": { "$ref": "#/components/schemas/Decimal", "description": "What the tax side expects (absent when it reported nothing for the period)." },
                "difference": { "$ref": "#/components/schemas/Decimal", "description": "vat_expected − vat_assessed (absent with vat_expected)." },
                "flagged": { "type": "boolean" },
                "reason": { "type": "string" }
            }
        },
        "VatCheck": {
            "type": "object",
            "required": ["enterprise", "as_of", "rows", "flagged"],
            "properties": { "enterprise": { "type": "string" }, "as_of": date, "rows": { "type": "array", "items": { "$ref": "#/components/schemas/VatRow" } }, "flagged": { "type": "boolean" } }
        },
        "WebhookRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["url"],
            "properties": {
                "url": { "type": "string", "pattern": "^http://", "maxLength": 2000, "description": "http://host[:port]/path." },
                "kinds": { "type": "array", "items": { "type": "string", "enum": kinds }, "default": [], "description": "The kinds of events to receive (empty: every kind the account may see)." }
            }
        },
        "Webhook": {
            "type": "object",
            "required": ["id", "login", "url", "kinds", "created_at", "disabled", "cursor"],
            "properties": {
                "id": { "type": "string" },
                "login": { "type": "string", "description": "The account deliveries act as." },
                "url": { "type": "string" },
                "kinds": { "type": "array", "items": { "type": "string", "enum": kinds } },
                "created_at": { "type": "string", "format": "date-time", "description": "RFC 3339, UTC." },
                "disabled": { "type": "boolean" },
                "cursor": { "type": "integer", "description": "The id of the last event delivered (0: none yet)." }
            }
        }
    })
}

fn paths() -> Value {
    json!({
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness check.",
                "responses": { "200": { "description": "The server is up.", "content": { "text/plain": { "schema": { "type": "string", "const": "ok" } } } } }
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description.",
                "responses": { "200": ok("The OpenAPI 3.1 document.", json!({ "type": "object" })) }
            }
        },
        "/api/v1/books": {
            "get": {
                "operationId": "listBooks",
                "summary": "Every book's latest revision, by book number.",
                "responses": {
                    "200": ok("The books.", json!({ "type": "array", "items": { "$ref": "#/components/schemas/BookSummary" } })),
                    "500": error_response("A fault of the server.")
                }
            },
            "post": {
                "operationId": "importBook",
                "summary": "File a book (账册/手册), or a change (变更) to one with the same book_no.",
                "requestBody": body("A book document.", "#/components/schemas/BookDocument"),
                "responses": {
                    "200": ok("The book was filed, changed, or was already identical.", json!({ "$ref": "#/components/schemas/BookImported" })),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("The document was rejected: rule document_format when it could not be read, otherwise the book rule it broke."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/lists": {
            "post": {
                "operationId": "postLists",
                "summary": "Post lists (保税核注清单) in order; each posts atomically and on its own.",
                "description": "Answers 200 with one outcome per list, exactly as `jiamao list post --json` prints them, even when some lists were rejected (the others stay posted). A list for a book the account may not post to is rejected with rule unknown_book, exactly like a list for a book that does not exist. A body that is not valid JSON as a whole posts nothing and is answered 422.",
                "requestBody": body("One list object or an array of them.", "#/components/schemas/ListFile"),
                "responses": {
                    "200": {
                        "description": "What became of each list, in request order.",
                        "headers": {
                            "X-Jiamao-Rejected": { "description": "How many of the lists were rejected (0 when none).", "schema": { "type": "integer", "minimum": 0 } }
                        },
                        "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/ListOutcome" } } } }
                    },
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("The body is not valid JSON as a whole (rule document_format); nothing was posted."),
                    "500": error_response("A fault of the server; nothing of the request was posted.")
                }
            }
        },
        "/api/v1/books/{book_no}/balance": {
            "get": {
                "operationId": "balance",
                "summary": "Material balances, counting lists declared on or before as_of (default: all).",
                "parameters": [book_no_path(), date_query("as_of", "Count lists with declared_on ≤ this date (YYYY-MM-DD).")],
                "responses": {
                    "200": ok("The balances.", json!({ "$ref": "#/components/schemas/BalanceReport" })),
                    "400": error_response("A query parameter is not a date (rule bad_query, field names it)."),
                    "404": error_response("The book is not known (rule unknown_book)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/books/{book_no}/reconcile": {
            "get": {
                "operationId": "reconcile",
                "summary": "The reconciliation report (报核), counting lists declared on or before to (default: all).",
                "parameters": [book_no_path(), date_query("from", "Start of a range (YYYY-MM-DD, inclusive): the opening is the should-remain of the day before and the flows are the range's own."), date_query("to", "Count lists with declared_on ≤ this date (YYYY-MM-DD).")],
                "responses": {
                    "200": ok("The report, without actual_remain, difference and difference_amount.", json!({ "$ref": "#/components/schemas/ReconcileReport" })),
                    "400": error_response("A query parameter is not a date (rule bad_query, field names it)."),
                    "404": error_response("The book is not known (rule unknown_book)."),
                    "500": error_response("A fault of the server.")
                }
            },
            "post": {
                "operationId": "reconcileWithStocktake",
                "summary": "The reconciliation report (报核) against a stocktake (盘点).",
                "parameters": [book_no_path(), date_query("from", "Start of a range (YYYY-MM-DD, inclusive)."), date_query("to", "Count lists with declared_on ≤ this date (YYYY-MM-DD).")],
                "requestBody": body("A stocktake document for this book.", "#/components/schemas/StocktakeDocument"),
                "responses": {
                    "200": ok("The report with actual_remain, difference and difference_amount.", json!({ "$ref": "#/components/schemas/ReconcileReport" })),
                    "400": error_response("A query parameter is not a date (rule bad_query, field names it)."),
                    "404": error_response("The book is not known (rule unknown_book)."),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("The stocktake was rejected: document_format, or the rule it broke (unknown_item, stocktake_duplicate, no_valid_version, …)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/books/{book_no}/materials/{seq}/explain": {
            "get": {
                "operationId": "explain",
                "summary": "Drill-down of one material (报核明细): every list line that moved each figure, and totals by product and 单耗 version.",
                "parameters": [
                    book_no_path(),
                    { "name": "seq", "in": "path", "required": true, "description": "The material's seq (备案序号).", "schema": { "type": "integer", "minimum": 1 } },
                    date_query("from", "Only lists declared on or after this date (YYYY-MM-DD)."),
                    date_query("to", "Only lists declared on or before this date (YYYY-MM-DD).")
                ],
                "responses": {
                    "200": ok("The drill-down.", json!({ "$ref": "#/components/schemas/Explanation" })),
                    "400": error_response("A path or query parameter is malformed (rule bad_path or bad_query)."),
                    "404": error_response("The book is not known (rule unknown_book)."),
                    "422": error_response("The material is not in the book (rule unknown_item)."),
                    "500": error_response("A fault of the server.")
                }
            }
        }
    })
}

/// The routes of domestic-sale taxation (内销征税).
fn tax_paths() -> Value {
    let recorded = |what: &str| {
        json!({
            "201": ok(&format!("The {what} was recorded."), json!({ "$ref": "#/components/schemas/Recorded" })),
            "200": ok(&format!("The same {what} was recorded before (status duplicate); nothing changed."), json!({ "$ref": "#/components/schemas/Recorded" }))
        })
    };
    let mut payment_responses = recorded("payment");
    let mut schedule_responses = recorded("schedule");
    let errors = |rules: &str| {
        json!({
            "404": error_response("The book is not known (rule unknown_book)."),
            "413": error_response("The body is larger than the server accepts (16 MiB)."),
            "422": error_response(rules),
            "500": error_response("A fault of the server.")
        })
    };
    payment_responses = merged(
        payment_responses,
        errors("The payment was refused: document_format (field names the place), amount_not_positive, request_invalid (no note_no), or record_differs (the note number is recorded with other content; a correction is a new note)."),
    );
    schedule_responses = merged(schedule_responses, errors("The schedule was refused: document_format (field names the place), or record_differs (another schedule from the same date is recorded)."));
    json!({
        "/api/v1/tax/quote": {
            "post": {
                "operationId": "taxQuote",
                "summary": "A domestic-sale tax quote (内销征税): duty, consumption tax, VAT and deferred-tax interest, each rate with its source.",
                "description": "Ledger form: book_no with a posted domestic-sale list_no, or items of a sale not yet declared; products are taxed as the bonded materials they consumed (q·uc·share). Explicit form: customs_value, currency, duty_rate, vat_rate and tax_date. Rates come from the loaded tariff and dated rates; a missing one is refused (rule tariff_missing, hs_code_unknown, rate_missing, …), never taken as zero. Amounts are CNY rounded to 0.01 per tax line.",
                "requestBody": body("A quote request (FORMAT.md, \"Tax quote document\").", "#/components/schemas/TaxQuoteRequest"),
                "responses": {
                    "200": ok("The quote.", json!({ "$ref": "#/components/schemas/TaxQuote" })),
                    "404": error_response("The book of a ledger-form request is not known (rule unknown_book)."),
                    "413": error_response("The body is larger than the server accepts (16 MiB)."),
                    "422": error_response("The request was refused: request_invalid when it cannot be read or lacks a field (field names it), or what is missing to compute it: tariff_missing, hs_code_unknown, rate_unreadable, rate_missing, price_missing, no_priced_inflow, batch_unpriced, list_unknown, not_a_domestic_sale, not_a_zone_book, …"),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/books/{book_no}/tax/periods": {
            "get": {
                "operationId": "taxPeriods",
                "summary": "Every declaration period of the book with domestic sales declared up to as_of: its lists, tax due, payments, what is outstanding and the surcharge (滞纳金) as of that day.",
                "description": "Each list is quoted at its own declaration date with interest to the period's due date; a list that cannot be quoted carries its error and makes the period incomplete. Periods follow the schedule in force on each list's date (per list when none is recorded).",
                "parameters": [book_no_path(), required_date_query("as_of", "Required: the day up to which lists and payments count and the surcharge runs (YYYY-MM-DD); the server does not assume today.")],
                "responses": {
                    "200": ok("The periods.", json!({ "$ref": "#/components/schemas/TaxPeriodsReport" })),
                    "400": error_response("as_of is missing or not a date, or another query parameter is given (rule bad_query, field names it)."),
                    "404": error_response("The book is not known (rule unknown_book)."),
                    "422": error_response("A settlement cannot be computed (for example rule rate_missing: no late-payment surcharge rate for a day)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/books/{book_no}/tax/payments": {
            "post": {
                "operationId": "recordTaxPayment",
                "summary": "Record a tax payment (税款缴款书 paid) of a period; idempotent by note_no.",
                "parameters": [book_no_path()],
                "requestBody": body("A payment.", "#/components/schemas/TaxPayment"),
                "responses": payment_responses
            }
        },
        "/api/v1/books/{book_no}/tax/schedule": {
            "get": {
                "operationId": "taxSchedules",
                "summary": "The book's declaration schedules (per list, monthly or quarterly 内销集中征税), by start date.",
                "parameters": [book_no_path()],
                "responses": {
                    "200": ok("The schedules (empty: every list is declared on its own).", json!({ "type": "array", "items": { "$ref": "#/components/schemas/TaxSchedule" } })),
                    "404": error_response("The book is not known (rule unknown_book)."),
                    "500": error_response("A fault of the server.")
                }
            },
            "post": {
                "operationId": "setTaxSchedule",
                "summary": "Record the book's declaration schedule from a date; idempotent by (book, from).",
                "parameters": [book_no_path()],
                "requestBody": body("A schedule.", "#/components/schemas/TaxSchedule"),
                "responses": schedule_responses
            }
        },
        "/api/v1/tariff/{hs_code}": {
            "get": {
                "operationId": "tariffLine",
                "summary": "The duty, consumption tax and VAT rates of a tariff line on a date, each with its source.",
                "description": "Provisional beats MFN; with origin (a certificate of origin declared for that country), the lower agreement rate applies (从低适用).",
                "parameters": [
                    { "name": "hs_code", "in": "path", "required": true, "description": "10-digit HS code.", "schema": { "type": "string", "pattern": "^[0-9]{10}$" } },
                    required_date_query("date", "Required: the day whose tariff applies (YYYY-MM-DD)."),
                    { "name": "origin", "in": "query", "required": false, "description": "3-digit customs country code of a declared certificate of origin (133 韩国 …).", "schema": { "type": "string", "pattern": "^[0-9]{3}$" } }
                ],
                "responses": {
                    "200": ok("The rates.", json!({ "$ref": "#/components/schemas/TariffLineRates" })),
                    "400": error_response("hs_code is not 10 digits (rule bad_path), or date is missing or malformed, origin is not a country code, or another query parameter is given (rule bad_query); field names it."),
                    "422": error_response("No tariff is in force on the date (rule tariff_missing), the code is not in it (hs_code_unknown), or its rate is not one Jiamao reads (rate_unreadable)."),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/tariffs": {
            "get": {
                "operationId": "listTariffs",
                "summary": "Every loaded tariff version, by the date it applies from.",
                "responses": {
                    "200": ok("The versions.", json!({ "type": "array", "items": { "$ref": "#/components/schemas/TariffVersion" } })),
                    "500": error_response("A fault of the server.")
                }
            }
        },
        "/api/v1/rates": {
            "get": {
                "operationId": "listRates",
                "summary": "Every dated rate: exchange rates by currency, deferred-tax interest and late-payment surcharge (built-in and loaded).",
                "responses": {
                    "200": ok("The rates, by kind, key and valid_from.", json!({ "type": "array", "items": { "$ref": "#/components/schemas/DatedRate" } })),
                    "500": error_response("A fault of the server.")
                }
            }
        }
    })
}

/// The schemas of domestic-sale taxation.
fn tax_schemas() -> Value {
    let amount = json!({ "$ref": "#/components/schemas/Amount" });
    let dec = json!({ "$ref": "#/components/schemas/Decimal" });
    let date = json!({ "$ref": "#/components/schemas/Date" });
    let goods = json!({ "type": "string", "enum": ["material", "product", "defective", "leftover", "byproduct"], "description": "料件, 成品, 残次品, 边角料, 副产品." });
    let schedule = json!({ "type": "string", "enum": ["per_list", "monthly", "quarterly"] });
    let quote_totals = json!({
        "type": "object",
        "required": ["customs_value", "duty", "consumption_tax", "vat", "interest", "total"],
        "properties": {
            "customs_value": amount, "duty": amount, "consumption_tax": amount, "vat": amount, "interest": amount,
            "total": { "$ref": "#/components/schemas/Amount", "description": "duty + consumption tax + VAT + interest." }
        }
    });
    let request = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Ledger form: book_no with list_no (a posted domestic-sale list) or items, payment_note_date, and tax_date (default for a list: its declaration date). Explicit form: customs_value, currency, duty_rate, vat_rate, tax_date; for interest interest_from and payment_note_date.",
        "properties": {
            "book_no": { "type": "string" },
            "list_no": { "type": "string" },
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/TaxQuoteItem" } },
            "tax_date": { "$ref": "#/components/schemas/Date", "description": "The date whose rates apply." },
            "payment_note_date": { "$ref": "#/components/schemas/Date", "description": "The end of the interest period (税款缴款书)." },
            "exchange_rates": { "type": "object", "additionalProperties": { "type": "string" }, "description": "CNY per unit by currency code ({\"502\": \"7.1030\"}), instead of the dated table." },
            "interest_rate": decimal_in(),
            "selective_tariff": { "type": "string", "enum": ["materials", "product"], "description": "Zone books: the basis of duty (选择性征收关税)." },
            "origin_certificate": { "type": "string", "description": "3-digit country code of a declared certificate of origin: agreement rates apply (从低)." },
            "prices": { "type": "array", "items": { "$ref": "#/components/schemas/TaxQuotePrice" } },
            "customs_value": decimal_in(),
            "currency": { "type": "string", "description": "Customs currency code (142 CNY, 502 USD …)." },
            "duty_rate": decimal_in(),
            "vat_rate": decimal_in(),
            "consumption_tax_rate": decimal_in(),
            "consumption_tax_specific": decimal_in(),
            "qty": decimal_in(),
            "interest_from": { "$ref": "#/components/schemas/Date" }
        }
    });
    let item = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["goods", "qty"],
        "properties": {
            "goods": goods,
            "item_seq": { "type": "integer", "minimum": 1 },
            "qty": decimal_in(),
            "consumption_version": { "type": "string", "description": "Products: the 单耗 version (default: the one valid on the tax date)." },
            "import_list_no": { "type": "string", "description": "Materials: value at the original price of this posted import list." },
            "unit_price": decimal_in(),
            "currency": { "type": "string" },
            "hs_code": { "type": "string", "description": "By-products: their HS code." },
            "unit": { "type": "string", "description": "By-products: their unit code." }
        }
    });
    let price = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["goods", "item_seq", "unit_price", "currency"],
        "description": "A price the user enters: similar goods for 来料, the domestic price of leftovers, a product's value, or an override.",
        "properties": { "goods": goods, "item_seq": { "type": "integer", "minimum": 1 }, "unit_price": decimal_in(), "currency": { "type": "string" } }
    });
    let line = json!({
        "type": "object",
        "required": ["goods", "hs_code", "name", "qty", "unit", "valuation", "customs_value", "duty_rate", "duty_rate_source", "duty", "consumption_tax", "vat_rate", "vat_rate_source", "vat", "interest_days", "interest_rate", "interest"],
        "properties": {
            "goods": goods,
            "item_seq": { "type": "integer" },
            "hs_code": { "type": "string" },
            "name": { "type": "string" },
            "qty": dec,
            "unit": { "type": "string" },
            "from_products": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["product_seq", "product_qty", "version", "material_qty"],
                    "properties": { "product_seq": { "type": "integer" }, "product_qty": dec, "version": { "type": "string" }, "material_qty": { "$ref": "#/components/schemas/Decimal", "description": "q·uc·share, exact." } }
                }
            },
            "valuation": {
                "type": "object",
                "required": ["method", "unit_price", "currency", "exchange_rate", "exchange_rate_date", "exchange_rate_source"],
                "properties": {
                    "method": { "type": "string", "description": "original_batch, weighted_average, similar_goods, domestic_price, entered_price, declared_price, product_price or customs_value." },
                    "unit_price": dec,
                    "currency": { "type": "string" },
                    "priced_qty": dec,
                    "priced_amount": dec,
                    "lists": { "type": "array", "items": { "type": "string" } },
                    "exchange_rate": dec,
                    "exchange_rate_date": date,
                    "exchange_rate_source": { "type": "string" }
                }
            },
            "customs_value": { "$ref": "#/components/schemas/Amount", "description": "计税价格 in CNY." },
            "duty_rate": { "type": "string", "description": "A fraction (0.065) or the tariff's notation for specific and compound rates." },
            "duty_rate_source": { "type": "string" },
            "duty": amount,
            "consumption_tax_rate": { "type": "string" },
            "consumption_tax_rate_source": { "type": "string" },
            "consumption_tax": amount,
            "vat_rate": { "type": "string" },
            "vat_rate_source": { "type": "string" },
            "vat": amount,
            "interest_days": { "type": "integer" },
            "interest_rate": dec,
            "interest": amount,
            "interest_exemption": { "type": "string" }
        }
    });
    let quote = json!({
        "type": "object",
        "required": ["tax_date", "lines", "totals"],
        "properties": {
            "book_no": { "type": "string" },
            "list_no": { "type": "string" },
            "tax_date": date,
            "payment_note_date": date,
            "lines": { "type": "array", "items": { "$ref": "#/components/schemas/TaxQuoteLine" } },
            "totals": { "$ref": "#/components/schemas/TaxQuoteTotals" },
            "interest": {
                "type": "object",
                "required": ["from", "from_basis", "to", "days", "day_count", "rate", "rate_source"],
                "properties": {
                    "from": date,
                    "from_basis": { "type": "string", "enum": ["first_import", "last_write_off", "request"] },
                    "from_list_no": { "type": "string" },
                    "to": date,
                    "days": { "type": "integer" },
                    "day_count": { "type": "string", "enum": ["end_minus_start", "both_ends"] },
                    "rate": dec,
                    "rate_source": { "type": "string" },
                    "waiver": { "type": "string" }
                }
            },
            "threshold": {
                "type": "object",
                "description": "The surplus / defective threshold (3 % of the imported materials and RMB 10,000).",
                "required": ["value", "imported_value", "share_limit", "amount_limit", "de_minimis", "rule"],
                "properties": { "value": amount, "imported_value": amount, "share": dec, "share_limit": dec, "amount_limit": dec, "de_minimis": { "type": "boolean" }, "rule": { "type": "string" } }
            },
            "selective_tariff": {
                "type": "object",
                "description": "Zone books' product sales: both bases of duty and the one chosen (选择性征收关税).",
                "required": ["as_materials", "as_product", "product_lines", "material_lines", "chosen", "chosen_by", "trade_mode", "note"],
                "properties": {
                    "as_materials": { "$ref": "#/components/schemas/TaxQuoteTotals" },
                    "as_product": { "$ref": "#/components/schemas/TaxQuoteTotals" },
                    "product_lines": { "type": "array", "items": { "$ref": "#/components/schemas/TaxQuoteLine" } },
                    "material_lines": { "type": "array", "items": { "$ref": "#/components/schemas/TaxQuoteLine" } },
                    "chosen": { "type": "string", "enum": ["materials", "product"] },
                    "chosen_by": { "type": "string", "enum": ["request", "trade_mode", "default"] },
                    "trade_mode": { "type": "string" },
                    "note": { "type": "string" }
                }
            }
        }
    });
    let period = json!({
        "type": "object",
        "required": ["schedule", "label", "from", "to", "due", "lists", "complete", "tax_due", "payments", "paid", "outstanding", "late", "outstanding_late_days", "surcharge"],
        "properties": {
            "schedule": schedule,
            "label": { "type": "string", "description": "2026-05, 2026Q2, or the list number of a list declared on its own." },
            "from": date,
            "to": date,
            "due": date,
            "lists": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["list_no", "declared_on", "trade_mode"],
                    "properties": {
                        "list_no": { "type": "string" },
                        "declared_on": date,
                        "trade_mode": { "type": "string" },
                        "totals": { "$ref": "#/components/schemas/TaxQuoteTotals" },
                        "error": { "$ref": "#/components/schemas/ListError", "description": "Why the list could not be quoted (the period is incomplete)." }
                    }
                }
            },
            "complete": { "type": "boolean", "description": "Whether every list was quoted." },
            "tax_due": amount,
            "payments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["paid_on", "amount", "late_days", "surcharge"],
                    "properties": { "paid_on": date, "amount": amount, "late_days": { "type": "integer", "minimum": 0 }, "surcharge": amount }
                }
            },
            "paid": amount,
            "outstanding": amount,
            "late": { "type": "boolean" },
            "outstanding_late_days": { "type": "integer", "minimum": 0 },
            "surcharge": { "$ref": "#/components/schemas/Amount", "description": "滞纳金 as of as_of." }
        }
    });
    json!({
        "Decimal": { "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "An exact decimal in plain notation without trailing zeros (rates, prices, quantities of a quote)." },
        "TaxQuoteRequest": request,
        "TaxQuoteItem": item,
        "TaxQuotePrice": price,
        "TaxQuoteLine": line,
        "TaxQuoteTotals": quote_totals,
        "TaxQuote": quote,
        "TaxSchedule": {
            "type": "object",
            "additionalProperties": false,
            "required": ["schedule", "from"],
            "properties": { "schedule": schedule, "from": { "$ref": "#/components/schemas/Date", "description": "The first day the schedule applies." } }
        },
        "TaxPayment": {
            "type": "object",
            "additionalProperties": false,
            "required": ["note_no", "period", "amount", "paid_on"],
            "properties": {
                "note_no": { "type": "string", "description": "The payment note number (税款缴款书): the idempotency key." },
                "period": { "type": "string", "description": "The period paid: 2026-05, 2026Q2, or a list number." },
                "amount": decimal_in(),
                "paid_on": { "$ref": "#/components/schemas/Date" }
            }
        },
        "Recorded": {
            "type": "object",
            "required": ["book_no", "key", "status"],
            "properties": { "book_no": { "type": "string" }, "key": { "type": "string" }, "status": { "type": "string", "enum": ["recorded", "duplicate"] } }
        },
        "TaxPeriod": period,
        "TaxPeriodsReport": {
            "type": "object",
            "required": ["book_no", "as_of", "periods", "unmatched_payments"],
            "properties": {
                "book_no": { "type": "string" },
                "as_of": { "$ref": "#/components/schemas/Date" },
                "periods": { "type": "array", "items": { "$ref": "#/components/schemas/TaxPeriod" } },
                "unmatched_payments": { "type": "array", "items": { "$ref": "#/components/schemas/TaxPayment" }, "description": "Payments naming no period of the book." }
            }
        },
        "TariffLineRates": {
            "type": "object",
            "required": ["hs_code", "name", "date", "duty_rate", "duty_rate_source", "vat_rate", "vat_rate_source"],
            "properties": {
                "hs_code": { "type": "string" },
                "name": { "type": "string" },
                "date": { "$ref": "#/components/schemas/Date", "description": "The day asked about." },
                "duty_rate": { "type": "string", "description": "A fraction (0.065) or the tariff's notation for specific and compound rates." },
                "duty_rate_source": { "type": "string", "description": "table (from date): column — mfn, provisional or agreement:<name>." },
                "consumption_tax_rate": { "type": "string", "description": "Absent when the line has no consumption tax." },
                "consumption_tax_rate_source": { "type": "string" },
                "vat_rate": { "type": "string" },
                "vat_rate_source": { "type": "string" }
            }
        },
        "TariffVersion": {
            "type": "object",
            "required": ["name", "valid_from", "lines", "source"],
            "properties": { "name": { "type": "string" }, "valid_from": { "$ref": "#/components/schemas/Date" }, "lines": { "type": "integer", "minimum": 0 }, "source": { "type": "string" } }
        },
        "DatedRate": {
            "type": "object",
            "required": ["kind", "key", "rate", "valid_from", "source"],
            "properties": {
                "kind": { "type": "string", "enum": ["exchange", "deferred_interest", "late_surcharge"] },
                "key": { "type": "string", "description": "The currency code of an exchange rate; empty otherwise." },
                "rate": { "$ref": "#/components/schemas/Decimal", "description": "CNY per unit (exchange), a yearly fraction (deferred_interest) or a daily fraction (late_surcharge)." },
                "valid_from": { "$ref": "#/components/schemas/Date" },
                "source": { "type": "string" }
            }
        }
    })
}

fn schemas() -> Value {
    let qty = json!({ "$ref": "#/components/schemas/Quantity" });
    let material_report_fields = [
        "opening",
        "imported",
        "carried_in",
        "surplus_in",
        "replaced_in",
        "consumed",
        "domestic_sold",
        "re_exported",
        "replaced_out",
        "surplus_out",
        "destroyed",
        "leftover_accrued",
        "leftover_disposed",
        "should_remain",
    ];
    let mut material_props = serde_json::Map::new();
    material_props.insert("seq".into(), json!({ "type": "integer", "description": "备案序号 of the material." }));
    for f in material_report_fields {
        material_props.insert(f.into(), qty.clone());
    }
    material_props.insert("actual_remain".into(), json!({ "$ref": "#/components/schemas/Quantity", "description": "实际剩余: only with a stocktake." }));
    material_props
        .insert("difference".into(), json!({ "$ref": "#/components/schemas/Quantity", "description": "差异 = should_remain − actual_remain (positive: shortage 短少); only with a stocktake." }));
    material_props.insert(
        "difference_amount".into(),
        json!({ "$ref": "#/components/schemas/Amount", "description": "The difference valued at the weighted average price of priced inflows, in the item's currency; only with a stocktake, absent when the item has no priced inflow." }),
    );
    let mut material_required: Vec<&str> = vec!["seq"];
    material_required.extend(material_report_fields);

    let product_fields = ["exported", "carried_out", "domestic_sold", "returned", "reexported", "destroyed"];
    let mut product_props = serde_json::Map::new();
    product_props.insert("seq".into(), json!({ "type": "integer", "description": "备案序号 of the product." }));
    for f in product_fields {
        product_props.insert(f.into(), qty.clone());
    }
    let mut product_required: Vec<&str> = vec!["seq"];
    product_required.extend(product_fields);

    let enterprise = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["uscc", "customs_code", "name", "region_code"],
        "properties": {
            "uscc": { "type": "string", "description": "统一社会信用代码, 18 characters (GB 32100-2015)." },
            "customs_code": { "type": "string", "description": "海关编码, 10 characters." },
            "name": { "type": "string" },
            "region_code": { "type": "string", "description": "6-digit 行政区划 code." }
        }
    });
    let item = |material: bool| {
        let mut props = json!({
            "seq": { "type": "integer" },
            "part_no": { "type": "string" },
            "hs_code": { "type": "string", "description": "10-digit HS code." },
            "name": { "type": "string" },
            "spec": { "type": "string" },
            "unit": { "type": "string", "description": "Customs unit code (\"035\" 千克 …)." },
            "unit_price": decimal_in(),
            "currency": { "type": "string", "description": "Customs currency code (\"502\" USD …)." },
            "approval_ref": { "type": "string" }
        });
        if material {
            if let Some(p) = props.as_object_mut() {
                p.insert("opening_qty".into(), decimal_in());
                p.insert("authorized_qty".into(), decimal_in());
            }
        }
        json!({ "type": "object", "additionalProperties": false, "required": ["seq", "part_no", "hs_code", "name", "unit", "unit_price", "currency"], "properties": props })
    };

    json!({
        "Date": { "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "YYYY-MM-DD." },
        "Quantity": { "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "An exact quantity rounded once to 5 places, half away from zero, plain notation without trailing zeros." },
        "Amount": { "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "An amount rounded once to 0.01, half away from zero, plain notation without trailing zeros." },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["rule", "message"],
                    "properties": {
                        "rule": { "type": "string", "description": "Machine-readable rule: document_format, file_invalid, unknown_book, bad_query, bad_path, body_too_large, forbidden, csrf, unauthenticated, internal, or the book, stocktake or tax rule broken (tariff_missing, rate_missing, record_differs, …)." },
                        "message": { "type": "string", "description": "What was wrong and where, for people." },
                        "field": { "type": "string", "description": "The query parameter, or the field inside the document, to blame." }
                    }
                }
            }
        },
        "BookSummary": {
            "type": "object",
            "required": ["book_no", "revision"],
            "properties": { "book_no": { "type": "string" }, "revision": { "type": "integer", "minimum": 1 } }
        },
        "BookImported": {
            "type": "object",
            "required": ["book_no", "revision", "status", "resolved_lines"],
            "properties": {
                "book_no": { "type": "string" },
                "revision": { "type": "integer", "minimum": 1 },
                "status": { "type": "string", "enum": ["filed", "changed", "unchanged"], "description": "filed: a new book; changed: a change (变更); unchanged: identical to the latest revision." },
                "resolved_lines": { "type": "integer", "minimum": 0, "description": "Pending product lines that the change gave a 单耗 version." }
            }
        },
        "ListOutcome": {
            "type": "object",
            "required": ["list_no", "status"],
            "properties": {
                "list_no": { "type": "string", "description": "Empty when the list could not be read far enough to find it." },
                "status": { "type": "string", "enum": ["posted", "duplicate", "rejected"] },
                "error": { "$ref": "#/components/schemas/ListError" }
            }
        },
        "ListError": {
            "type": "object",
            "required": ["rule", "message"],
            "properties": { "rule": { "type": "string" }, "line": { "type": "integer" }, "message": { "type": "string" } }
        },
        "BalanceReport": {
            "type": "object",
            "required": ["book_no", "as_of", "materials"],
            "properties": {
                "book_no": { "type": "string" },
                "as_of": { "oneOf": [{ "$ref": "#/components/schemas/Date" }, { "type": "null" }] },
                "materials": {
                    "type": "array",
                    "items": { "type": "object", "required": ["seq", "balance"], "properties": { "seq": { "type": "integer" }, "balance": { "$ref": "#/components/schemas/Quantity" } } }
                }
            }
        },
        "MaterialReport": { "type": "object", "required": material_required, "properties": material_props },
        "ProductReport": { "type": "object", "required": product_required, "properties": product_props },
        "ReconcileReport": {
            "type": "object",
            "required": ["book_no", "materials", "products"],
            "properties": {
                "book_no": { "type": "string" },
                "materials": { "type": "array", "items": { "$ref": "#/components/schemas/MaterialReport" } },
                "products": { "type": "array", "items": { "$ref": "#/components/schemas/ProductReport" } }
            }
        },
        "Explanation": {
            "type": "object",
            "required": ["book_no", "material_seq", "name", "contributions", "by_product_version", "pending_lines"],
            "properties": {
                "book_no": { "type": "string" },
                "material_seq": { "type": "integer" },
                "name": { "type": "string" },
                "contributions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["list_no", "declared_on", "trade_mode", "line", "figure", "qty"],
                        "properties": {
                            "list_no": { "type": "string" },
                            "declared_on": { "$ref": "#/components/schemas/Date" },
                            "trade_mode": { "type": "string" },
                            "line": { "type": "integer" },
                            "figure": { "type": "string", "enum": ["imported", "carried_in", "surplus_in", "replaced_in", "consumed", "domestic_sold", "re_exported", "replaced_out", "surplus_out", "destroyed", "leftover_disposed"] },
                            "qty": { "$ref": "#/components/schemas/Quantity" },
                            "product_seq": { "type": "integer" },
                            "version": { "type": "string" },
                            "product_qty": { "$ref": "#/components/schemas/Quantity" },
                            "unit_consumption": { "$ref": "#/components/schemas/Quantity" },
                            "bonded_share": { "$ref": "#/components/schemas/Quantity" },
                            "leftover": { "$ref": "#/components/schemas/Quantity" },
                            "amount": { "$ref": "#/components/schemas/Amount" }
                        }
                    }
                },
                "by_product_version": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["product_seq", "version", "figure", "lines", "product_qty", "qty"],
                        "properties": {
                            "product_seq": { "type": "integer" },
                            "version": { "type": "string" },
                            "figure": { "type": "string" },
                            "lines": { "type": "integer" },
                            "product_qty": { "$ref": "#/components/schemas/Quantity" },
                            "qty": { "$ref": "#/components/schemas/Quantity" }
                        }
                    }
                },
                "pending_lines": { "type": "array", "items": { "type": "string" } }
            }
        },
        "Enterprise": enterprise,
        "Material": item(true),
        "Product": item(false),
        "Consumption": {
            "type": "object",
            "additionalProperties": false,
            "required": ["product_seq", "material_seq", "version", "valid_from"],
            "description": "A 单耗 line: either net (with loss rates) or unit_consumption, never both.",
            "properties": {
                "product_seq": { "type": "integer" },
                "material_seq": { "type": "integer" },
                "version": { "type": "string" },
                "valid_from": { "$ref": "#/components/schemas/Date" },
                "net": decimal_in(),
                "tangible_loss_rate": decimal_in(),
                "intangible_loss_rate": decimal_in(),
                "unit_consumption": decimal_in(),
                "bonded_share": decimal_in()
            }
        },
        "BookDocument": {
            "type": "object",
            "additionalProperties": false,
            "description": "Book document (账册 / 手册), FORMAT.md.",
            "required": ["book_no", "book_type", "trade_mode", "operator", "master_customs", "valid_from", "valid_until", "materials", "products", "consumption"],
            "properties": {
                "book_no": { "type": "string" },
                "book_type": { "type": "string", "enum": ["B", "C", "E"] },
                "trade_mode": { "type": "string", "enum": ["0214", "0615"] },
                "operator": { "$ref": "#/components/schemas/Enterprise" },
                "processor": { "$ref": "#/components/schemas/Enterprise" },
                "master_customs": { "type": "string", "description": "主管关区, 4 digits." },
                "zone": { "type": "string" },
                "valid_from": { "$ref": "#/components/schemas/Date" },
                "valid_until": { "$ref": "#/components/schemas/Date" },
                "quantity_control": { "type": "boolean" },
                "consumption_stage": { "type": "string", "enum": ["before_export", "before_report"] },
                "materials": { "type": "array", "items": { "$ref": "#/components/schemas/Material" } },
                "products": { "type": "array", "items": { "$ref": "#/components/schemas/Product" } },
                "consumption": { "type": "array", "items": { "$ref": "#/components/schemas/Consumption" } }
            }
        },
        "ListLine": {
            "type": "object",
            "additionalProperties": false,
            "required": ["line", "item_seq", "qty"],
            "properties": {
                "line": { "type": "integer" },
                "item_seq": { "type": "integer" },
                "qty": decimal_in(),
                "amount": decimal_in(),
                "consumption_version": { "type": "string" },
                "origin_country": { "type": "string" },
                "legal_qty": decimal_in(),
                "second_legal_qty": decimal_in()
            }
        },
        "ListDocument": {
            "type": "object",
            "additionalProperties": false,
            "description": "List document (保税核注清单), FORMAT.md.",
            "required": ["list_no", "book_no", "declared_on", "direction", "goods", "trade_mode", "lines"],
            "properties": {
                "list_no": { "type": "string" },
                "book_no": { "type": "string" },
                "declared_on": { "$ref": "#/components/schemas/Date" },
                "direction": { "type": "string", "enum": ["I", "E"] },
                "goods": { "type": "string", "enum": ["material", "product", "defective"] },
                "trade_mode": { "type": "string", "description": "监管方式 code, from FORMAT.md's table." },
                "counterparty_book_no": { "type": "string" },
                "declaration_no": { "type": "string" },
                "lines": { "type": "array", "items": { "$ref": "#/components/schemas/ListLine" } }
            }
        },
        "ListFile": {
            "oneOf": [
                { "$ref": "#/components/schemas/ListDocument" },
                { "type": "array", "items": { "$ref": "#/components/schemas/ListDocument" } }
            ]
        },
        "Count": {
            "type": "object",
            "additionalProperties": false,
            "required": ["seq", "qty"],
            "properties": { "seq": { "type": "integer" }, "qty": decimal_in() }
        },
        "StocktakeDocument": {
            "type": "object",
            "additionalProperties": false,
            "description": "Stocktake document (盘点), FORMAT.md.",
            "required": ["book_no", "taken_on", "materials", "products"],
            "properties": {
                "book_no": { "type": "string" },
                "taken_on": { "$ref": "#/components/schemas/Date" },
                "materials": counts(),
                "products": counts(),
                "wip": counts(),
                "outsourced": counts()
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The taxation routes and schemas are merged into the document: none may replace another.
    #[test]
    fn merged_parts_do_not_overlap() {
        let parts = [
            (paths(), tax_paths()),
            (schemas(), tax_schemas()),
            (merged(paths(), tax_paths()), platform_paths()),
            (merged(schemas(), tax_schemas()), platform_schemas()),
            (merged(merged(paths(), tax_paths()), platform_paths()), dept_paths()),
            (merged(merged(schemas(), tax_schemas()), platform_schemas()), dept_schemas()),
            (merged(merged(merged(paths(), tax_paths()), platform_paths()), dept_paths()), policy_paths()),
            (merged(merged(merged(schemas(), tax_schemas()), platform_schemas()), dept_schemas()), policy_schemas()),
        ];
        for (a, b) in parts {
            let (Some(a), Some(b)) = (a.as_object().cloned(), b.as_object().cloned()) else { panic!("not objects") };
            for k in b.keys() {
                assert!(!a.contains_key(k), "{k} is defined twice");
            }
        }
    }

    /// Every `$ref` in the document points at a schema it defines.
    #[test]
    fn references_resolve() {
        let doc = document();
        let mut refs = Vec::new();
        fn walk(v: &Value, refs: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x.as_str()) {
                            ("$ref", Some(r)) => refs.push(r.to_owned()),
                            _ => walk(x, refs),
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, refs)),
                _ => {}
            }
        }
        walk(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(doc["components"]["schemas"].get(name).is_some(), "dangling {r}");
        }
    }
}
