//! The OpenAPI 3.1 description of the API, written by hand: it is the contract of the routes
//! (FORMAT.md, "server"), so it changes only when the routes do.

use axum::Json;
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
            "description": "The JSON API of Jiamao, a bonded ledger for China processing trade. Documents follow the interchange format (FORMAT.md). Errors are {\"error\": {rule, message, field?}}. Authentication (bearer tokens and roles) comes later; until then the API is open to whoever can reach it. The web pages at / and /books/{book_no} are HTML and not part of this description."
        },
        "paths": paths(),
        "components": { "schemas": schemas() }
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
                "description": "Answers 200 with one outcome per list, exactly as `jiamao list post --json` prints them, even when some lists were rejected (the others stay posted). A body that is not valid JSON as a whole posts nothing and is answered 422.",
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
                        "rule": { "type": "string", "description": "Machine-readable rule: document_format, unknown_book, bad_query, bad_path, body_too_large, internal, or the book or stocktake rule broken." },
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
