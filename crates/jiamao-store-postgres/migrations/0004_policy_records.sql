-- Records kept beside the ledger. Append-only: triggers refuse UPDATE, DELETE and TRUNCATE; a
-- correction is a further record.

-- Dated policy documents shared by every enterprise (national data: a tariff version, a table of
-- dated rates, catalog versions), one per (kind, name). Owned by no enterprise and read by every
-- process: a reference table (create_reference_table('policy_documents')), copied to every node.
CREATE TABLE policy_documents (
    id         BIGSERIAL NOT NULL PRIMARY KEY,   -- append order
    kind       TEXT      NOT NULL,
    name       TEXT      NOT NULL,
    valid_from DATE      NOT NULL,
    body       TEXT      NOT NULL,               -- the document, JSON (may be several MB)
    UNIQUE (kind, name)
);
COMMENT ON TABLE policy_documents IS 'citus:reference';

-- Business records of one enterprise (a tax payment, a chosen declaration schedule, ...), one per
-- (enterprise, kind, key): the key is the idempotency key. Distributed by enterprise, co-located
-- with its lists (create_distributed_table('enterprise_records', 'enterprise', colocate_with => 'lists')).
CREATE TABLE enterprise_records (
    enterprise  TEXT      NOT NULL,
    id          BIGSERIAL NOT NULL,              -- append order
    book_no     TEXT      NOT NULL,
    kind        TEXT      NOT NULL,
    key         TEXT      NOT NULL,
    recorded_on DATE      NOT NULL,              -- the business date the record is about
    body        TEXT      NOT NULL,              -- the record, JSON
    PRIMARY KEY (enterprise, id),
    UNIQUE (enterprise, kind, key)
);
CREATE INDEX enterprise_records_by_book ON enterprise_records (enterprise, book_no, kind, id);
COMMENT ON TABLE enterprise_records IS 'citus:distributed:enterprise';

CREATE TRIGGER policy_documents_append_only BEFORE UPDATE OR DELETE ON policy_documents
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('policy documents are append-only');
CREATE TRIGGER policy_documents_append_only_truncate BEFORE TRUNCATE ON policy_documents
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('policy documents are append-only');
CREATE TRIGGER enterprise_records_append_only BEFORE UPDATE OR DELETE ON enterprise_records
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('enterprise records are append-only');
CREATE TRIGGER enterprise_records_append_only_truncate BEFORE TRUNCATE ON enterprise_records
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('enterprise records are append-only');
