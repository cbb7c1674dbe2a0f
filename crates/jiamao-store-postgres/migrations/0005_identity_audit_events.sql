-- Identity, the audit trail, business events and webhooks: national platform data kept beside the
-- ledger. Timestamps are RFC 3339 UTC text ('2026-11-27T01:02:03.123456Z'), not TIMESTAMPTZ: they are
-- stored and returned exactly as given, on both backends, because the audit hashes are computed over
-- them.
--
-- Accounts, API tokens, sessions and webhook subscriptions are state: updated (a password changed, a
-- token revoked, an account disabled), never deleted (triggers refuse DELETE and TRUNCATE). The audit
-- trail and the events are append-only (triggers refuse UPDATE, DELETE and TRUNCATE).
--
-- Citus: the identity tables (accounts, api_tokens, sessions, webhooks, webhook_cursors) belong to no
-- enterprise (customs, department and platform accounts sign in through any node, and every request
-- reads them): reference tables, copied to every node. The audit trail is distributed by its chain
-- (an enterprise's USCC, or 'system'), co-located with the enterprise's lists; the events by
-- enterprise.

CREATE TABLE accounts (
    login         TEXT    NOT NULL PRIMARY KEY,
    role          TEXT    NOT NULL,
    enterprise    TEXT,                  -- the USCC an enterprise account acts for
    customs       TEXT,                  -- the customs district of a customs account
    province      TEXT,                  -- the province of a department account
    password_hash TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
COMMENT ON TABLE accounts IS 'citus:reference';

-- API tokens: only a hash of the secret.
CREATE TABLE api_tokens (
    token_id    TEXT    NOT NULL PRIMARY KEY,
    login       TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL,
    read_only   BOOLEAN NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_by_login ON api_tokens (login, token_id);
COMMENT ON TABLE api_tokens IS 'citus:reference';

-- Browser sessions: only hashes of the cookie secret and of the CSRF token.
CREATE TABLE sessions (
    session_id TEXT NOT NULL PRIMARY KEY,
    login      TEXT NOT NULL,
    csrf_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
COMMENT ON TABLE sessions IS 'citus:reference';

-- The audit trail: hash chains, one per enterprise (by USCC) and one named 'system'. Every statement
-- names its chain, so a chain lives on one shard
-- (create_distributed_table('audit_log', 'chain', colocate_with => 'lists')).
CREATE TABLE audit_log (
    chain      TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    at         TEXT   NOT NULL,
    actor      TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    request_id TEXT   NOT NULL,
    source     TEXT   NOT NULL,
    outcome    TEXT   NOT NULL,
    detail     TEXT   NOT NULL,
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL,
    PRIMARY KEY (chain, seq)
);
COMMENT ON TABLE audit_log IS 'citus:distributed:chain';

-- Business events for the departments, in id order across enterprises: reading them by id is a
-- fan-out query by design (events_by_id serves it on every shard).
-- create_distributed_table('events', 'enterprise', colocate_with => 'lists')
CREATE TABLE events (
    enterprise TEXT      NOT NULL,
    id         BIGSERIAL NOT NULL,     -- append order
    kind       TEXT      NOT NULL,
    at         TEXT      NOT NULL,
    body       TEXT      NOT NULL,     -- the event, JSON
    PRIMARY KEY (enterprise, id)
);
CREATE INDEX events_by_id ON events (id);
COMMENT ON TABLE events IS 'citus:distributed:enterprise';

-- Webhook subscriptions of accounts, and the last event delivered to each.
CREATE TABLE webhooks (
    id         TEXT    NOT NULL PRIMARY KEY,
    login      TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    kinds      TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    disabled   BOOLEAN NOT NULL
);
COMMENT ON TABLE webhooks IS 'citus:reference';

CREATE TABLE webhook_cursors (
    webhook_id TEXT   NOT NULL PRIMARY KEY,
    event_id   BIGINT NOT NULL
);
COMMENT ON TABLE webhook_cursors IS 'citus:reference';

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('the audit trail is append-only');
CREATE TRIGGER audit_log_append_only_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('the audit trail is append-only');
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('events are append-only');
CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('events are append-only');
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('accounts are never deleted (disable instead)');
CREATE TRIGGER accounts_never_deleted_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('accounts are never deleted (disable instead)');
CREATE TRIGGER api_tokens_never_deleted BEFORE DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('API tokens are never deleted (revoke instead)');
CREATE TRIGGER api_tokens_never_deleted_truncate BEFORE TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('API tokens are never deleted (revoke instead)');
CREATE TRIGGER sessions_never_deleted BEFORE DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('sessions are never deleted (revoke instead)');
CREATE TRIGGER sessions_never_deleted_truncate BEFORE TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('sessions are never deleted (revoke instead)');
CREATE TRIGGER webhooks_never_deleted BEFORE DELETE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('webhooks are never deleted (disable instead)');
CREATE TRIGGER webhooks_never_deleted_truncate BEFORE TRUNCATE ON webhooks
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('webhooks are never deleted (disable instead)');
