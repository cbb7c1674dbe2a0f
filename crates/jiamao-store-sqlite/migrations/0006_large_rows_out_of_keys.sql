-- Large values out of key comparisons. In a WITHOUT ROWID table the whole row is the key: every
-- comparison of a seek with a row that spills onto overflow pages reads the entire row, so finding
-- a book's latest revision read its whole document (about 93 MB on the default `gen` workload),
-- finding a checkpoint read every checkpoint it passed (several MB each), and so would finding the
-- last closed cycle (a frozen report each).

-- A book's revisions without their documents: `book_revision` reads this index alone.
CREATE INDEX book_revisions_revision ON book_revisions (enterprise, book_no, revision);

-- A book's closed cycles without their frozen reports: `last_closed_to` reads this index alone.
CREATE INDEX cycle_closures_closed_to ON cycle_closures (enterprise, book_no, cycle_no, closed_to);

-- Checkpoints in a rowid table: a seek compares small index entries, then fetches one row by rowid.
-- Checkpoints are derived data; the existing ones are carried over as they are.
CREATE TABLE ledger_checkpoints_v2 (
    id         INTEGER PRIMARY KEY,
    enterprise TEXT    NOT NULL,
    book_no    TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    last_id    INTEGER NOT NULL,   -- the state after every list of the book with id <= last_id
    state      TEXT    NOT NULL,   -- the derived state (see jiamao_domain::ledger::LedgerSnapshot)
    UNIQUE (enterprise, book_no, revision, last_id)
);
INSERT INTO ledger_checkpoints_v2 (enterprise, book_no, revision, last_id, state) SELECT enterprise, book_no, revision, last_id, state FROM ledger_checkpoints;
DROP TABLE ledger_checkpoints;
ALTER TABLE ledger_checkpoints_v2 RENAME TO ledger_checkpoints;
CREATE TRIGGER ledger_checkpoints_append_only_u BEFORE UPDATE ON ledger_checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
