-- Checkpoints of derived ledger state (balances), so that loading a large book does not replay every
-- line. Derived and recomputable: the posted lines stay the truth. Rows are only inserted (a checkpoint
-- may be deleted, never changed).
CREATE TABLE ledger_checkpoints (
    enterprise TEXT   NOT NULL,
    book_no    TEXT   NOT NULL,
    revision   BIGINT NOT NULL,
    last_id    BIGINT NOT NULL,   -- the state after every list of the book with id <= last_id
    state      TEXT   NOT NULL,   -- JSON of the derived state
    PRIMARY KEY (enterprise, book_no, revision, last_id)
);
COMMENT ON TABLE ledger_checkpoints IS 'citus:distributed:enterprise';
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('checkpoints are append-only');
