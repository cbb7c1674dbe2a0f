-- Identity, the audit trail, business events and webhooks: national platform data kept beside the
-- ledger. Timestamps are RFC 3339 UTC text ('2026-11-27T01:02:03.123456Z'), stored exactly as given
-- (the audit hashes are computed over them). Booleans are 0 or 1.
--
-- Accounts, API tokens, sessions and webhook subscriptions are state: updated (a password changed, a
-- token revoked, an account disabled), never deleted (triggers refuse DELETE). The audit trail and the
-- events are append-only (triggers refuse UPDATE and DELETE).

CREATE TABLE accounts (
    login         TEXT    NOT NULL PRIMARY KEY,
    role          TEXT    NOT NULL,
    enterprise    TEXT,                  -- the USCC an enterprise account acts for
    customs       TEXT,                  -- the customs district of a customs account
    province      TEXT,                  -- the province of a department account
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) WITHOUT ROWID;

-- API tokens: only a hash of the secret.
CREATE TABLE api_tokens (
    token_id    TEXT    NOT NULL PRIMARY KEY,
    login       TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL,
    read_only   INTEGER NOT NULL CHECK (read_only IN (0, 1)),
    created_at  TEXT    NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
) WITHOUT ROWID;
CREATE INDEX api_tokens_by_login ON api_tokens (login, token_id);

-- Browser sessions: only hashes of the cookie secret and of the CSRF token.
CREATE TABLE sessions (
    session_id TEXT NOT NULL PRIMARY KEY,
    login      TEXT NOT NULL,
    csrf_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;

-- The audit trail: hash chains, one per enterprise (by USCC) and one named 'system'.
CREATE TABLE audit_log (
    chain      TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    PRIMARY KEY (chain, seq)
) WITHOUT ROWID;

-- Business events for the departments, in id order across enterprises.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,   -- append order
    enterprise TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    body       TEXT    NOT NULL       -- the event, JSON
);

-- Webhook subscriptions of accounts, and the last event delivered to each.
CREATE TABLE webhooks (
    id         TEXT    NOT NULL PRIMARY KEY,
    login      TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    kinds      TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    disabled   INTEGER NOT NULL CHECK (disabled IN (0, 1))
) WITHOUT ROWID;

CREATE TABLE webhook_cursors (
    webhook_id TEXT    NOT NULL PRIMARY KEY,
    event_id   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts BEGIN SELECT RAISE(ABORT, 'accounts are never deleted (disable instead)'); END;
CREATE TRIGGER api_tokens_never_deleted BEFORE DELETE ON api_tokens BEGIN SELECT RAISE(ABORT, 'API tokens are never deleted (revoke instead)'); END;
CREATE TRIGGER sessions_never_deleted BEFORE DELETE ON sessions BEGIN SELECT RAISE(ABORT, 'sessions are never deleted (revoke instead)'); END;
CREATE TRIGGER webhooks_never_deleted BEFORE DELETE ON webhooks BEGIN SELECT RAISE(ABORT, 'webhooks are never deleted (disable instead)'); END;
