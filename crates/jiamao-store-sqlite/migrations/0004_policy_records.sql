-- Records kept beside the ledger. Append-only: triggers refuse UPDATE and DELETE; a correction is a
-- further record.

-- Dated policy documents shared by every enterprise (national data: a tariff version, a table of
-- dated rates, catalog versions), one per (kind, name).
CREATE TABLE policy_documents (
    id         INTEGER PRIMARY KEY,   -- append order
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    valid_from TEXT    NOT NULL,      -- YYYY-MM-DD
    body       TEXT    NOT NULL,      -- the document, JSON
    UNIQUE (kind, name)
);

-- Business records of one enterprise (a tax payment, a chosen declaration schedule, ...), one per
-- (enterprise, kind, key): the key is the idempotency key.
CREATE TABLE enterprise_records (
    id          INTEGER PRIMARY KEY,  -- append order
    enterprise  TEXT    NOT NULL,
    book_no     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    recorded_on TEXT    NOT NULL,     -- YYYY-MM-DD: the business date the record is about
    body        TEXT    NOT NULL,     -- the record, JSON
    UNIQUE (enterprise, kind, key)
);
CREATE INDEX enterprise_records_by_book ON enterprise_records (enterprise, book_no, kind, id);

CREATE TRIGGER policy_documents_append_only_u BEFORE UPDATE ON policy_documents BEGIN SELECT RAISE(ABORT, 'policy documents are append-only'); END;
CREATE TRIGGER policy_documents_append_only_d BEFORE DELETE ON policy_documents BEGIN SELECT RAISE(ABORT, 'policy documents are append-only'); END;
CREATE TRIGGER enterprise_records_append_only_u BEFORE UPDATE ON enterprise_records BEGIN SELECT RAISE(ABORT, 'enterprise records are append-only'); END;
CREATE TRIGGER enterprise_records_append_only_d BEFORE DELETE ON enterprise_records BEGIN SELECT RAISE(ABORT, 'enterprise records are append-only'); END;
