-- Checkpoints of derived ledger state (balances), so that loading a large book does not replay
-- every line. Derived and recomputable: the posted lines stay the truth. Rows are only inserted.
CREATE TABLE ledger_checkpoints (
    enterprise TEXT    NOT NULL,
    book_no    TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    last_id    INTEGER NOT NULL,   -- the state after every list of the book with id <= last_id
    state      TEXT    NOT NULL,   -- JSON of the derived state
    PRIMARY KEY (enterprise, book_no, revision, last_id)
) WITHOUT ROWID;
CREATE TRIGGER ledger_checkpoints_append_only_u BEFORE UPDATE ON ledger_checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
