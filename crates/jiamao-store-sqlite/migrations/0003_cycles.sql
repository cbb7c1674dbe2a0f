-- Closed verification cycles (核销结案): the frozen 报核 report, the agreed adjustments (核增/核减) and
-- the openings of the next cycle. Append-only: a closure is never changed or removed.
CREATE TABLE cycle_closures (
    enterprise TEXT    NOT NULL,
    book_no    TEXT    NOT NULL,
    cycle_no   INTEGER NOT NULL CHECK (cycle_no >= 1),
    closed_to  TEXT    NOT NULL,   -- YYYY-MM-DD: the cycle's last day, the write-off date
    record     TEXT    NOT NULL,   -- JSON of the closure
    PRIMARY KEY (enterprise, book_no, cycle_no)
) WITHOUT ROWID;
CREATE TRIGGER cycle_closures_append_only_u BEFORE UPDATE ON cycle_closures BEGIN SELECT RAISE(ABORT, 'cycle closures are append-only'); END;
CREATE TRIGGER cycle_closures_append_only_d BEFORE DELETE ON cycle_closures BEGIN SELECT RAISE(ABORT, 'cycle closures are append-only'); END;
