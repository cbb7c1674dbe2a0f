-- Closed verification cycles (核销结案): the frozen 报核 report, the agreed adjustments (核增/核减) and
-- the openings of the next cycle. Append-only: a closure is never changed or removed.
CREATE TABLE cycle_closures (
    enterprise TEXT   NOT NULL,
    book_no    TEXT   NOT NULL,
    cycle_no   BIGINT NOT NULL CHECK (cycle_no >= 1),
    closed_to  DATE   NOT NULL,   -- the cycle's last day, the write-off date
    record     TEXT   NOT NULL,   -- JSON of the closure
    PRIMARY KEY (enterprise, book_no, cycle_no)
);
COMMENT ON TABLE cycle_closures IS 'citus:distributed:enterprise';
CREATE TRIGGER cycle_closures_append_only BEFORE UPDATE OR DELETE ON cycle_closures
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('cycle closures are append-only');
CREATE TRIGGER cycle_closures_append_only_truncate BEFORE TRUNCATE ON cycle_closures
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('cycle closures are append-only');
