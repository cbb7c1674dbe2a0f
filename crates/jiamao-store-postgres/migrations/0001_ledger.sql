-- Jiamao ledger schema for PostgreSQL, version 1. Shipped migrations are never edited; add a new file
-- instead. Applied by PgStore::connect inside one transaction under an advisory lock.
--
-- Everything here is append-only: triggers refuse UPDATE, DELETE and TRUNCATE of filed and posted
-- records. Quantities and amounts are NUMERIC (exact; never floating point).
--
-- Laid out for Citus, distributed by enterprise (以企业为单元): every enterprise-owned table has
-- `enterprise TEXT NOT NULL` as the first column of its primary key, of every unique constraint and of
-- every foreign key, so that all of an enterprise's rows are co-located and every query (which always
-- filters by enterprise) routes to one shard. Each table says its role in its comment:
--   'citus:distributed:enterprise'  create_distributed_table('<table>', 'enterprise')
--   'citus:reference'               create_reference_table('<table>')

-- Refuses a change to an append-only table; the trigger's argument says which records.
CREATE FUNCTION jiamao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% (% on % refused)', TG_ARGV[0], TG_OP, TG_TABLE_NAME;
END
$$;

-- Which enterprise owns each book number (book numbers are unique across enterprises). Small and
-- read by every process: a reference table.
CREATE TABLE book_directory (
    book_no    TEXT NOT NULL PRIMARY KEY,
    enterprise TEXT NOT NULL
);
COMMENT ON TABLE book_directory IS 'citus:reference';

CREATE TABLE book_revisions (
    enterprise TEXT   NOT NULL,
    book_no    TEXT   NOT NULL,
    revision   BIGINT NOT NULL CHECK (revision >= 1),
    doc        TEXT   NOT NULL,          -- the book document, canonical JSON
    PRIMARY KEY (enterprise, book_no, revision)
);
COMMENT ON TABLE book_revisions IS 'citus:distributed:enterprise';

-- Posting order. Ids are allocated inside the write transaction that holds the book's lock, so within
-- a book they increase in commit order.
CREATE SEQUENCE lists_id_seq AS BIGINT;

CREATE TABLE lists (
    enterprise           TEXT    NOT NULL,
    id                   BIGINT  NOT NULL DEFAULT nextval('lists_id_seq'),
    list_no              TEXT    NOT NULL,
    book_no              TEXT    NOT NULL,
    declared_on          DATE    NOT NULL,
    direction            TEXT    NOT NULL CHECK (direction IN ('I', 'E')),
    goods                TEXT    NOT NULL CHECK (goods IN ('material', 'product', 'defective')),
    trade_mode           TEXT    NOT NULL,
    counterparty_book_no TEXT,
    declaration_no       TEXT,
    line_count           INTEGER NOT NULL CHECK (line_count >= 1),
    canonical            TEXT    NOT NULL,      -- the list as posted, canonical JSON (idempotency)
    PRIMARY KEY (enterprise, id),
    UNIQUE (enterprise, list_no)
);
ALTER SEQUENCE lists_id_seq OWNED BY lists.id;
CREATE INDEX lists_by_book ON lists (enterprise, book_no, id);
COMMENT ON TABLE lists IS 'citus:distributed:enterprise';

CREATE TABLE list_lines (
    enterprise          TEXT    NOT NULL,
    list_id             BIGINT  NOT NULL,
    pos                 INTEGER NOT NULL CHECK (pos >= 0),   -- position in the document, from 0
    line                BIGINT  NOT NULL,
    item_seq            BIGINT  NOT NULL,
    qty                 NUMERIC NOT NULL,
    amount              NUMERIC,
    consumption_version TEXT,                   -- as declared on the line
    version             TEXT,                   -- the 单耗 version used; NULL: material line or pending
    origin_country      TEXT,
    legal_qty           NUMERIC,
    second_legal_qty    NUMERIC,
    PRIMARY KEY (enterprise, list_id, pos),
    FOREIGN KEY (enterprise, list_id) REFERENCES lists (enterprise, id)
);
COMMENT ON TABLE list_lines IS 'citus:distributed:enterprise';

-- Versions given later to product lines posted while their 单耗 was pending (报核前).
CREATE TABLE line_resolutions (
    enterprise    TEXT   NOT NULL,
    list_id       BIGINT NOT NULL,
    line          BIGINT NOT NULL,
    version       TEXT   NOT NULL,
    book_revision BIGINT NOT NULL,
    PRIMARY KEY (enterprise, list_id, line),
    FOREIGN KEY (enterprise, list_id) REFERENCES lists (enterprise, id)
);
COMMENT ON TABLE line_resolutions IS 'citus:distributed:enterprise';

CREATE TRIGGER book_directory_append_only BEFORE UPDATE OR DELETE ON book_directory
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('the book directory is append-only');
CREATE TRIGGER book_directory_append_only_truncate BEFORE TRUNCATE ON book_directory
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('the book directory is append-only');
CREATE TRIGGER book_revisions_append_only BEFORE UPDATE OR DELETE ON book_revisions
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('book revisions are append-only');
CREATE TRIGGER book_revisions_append_only_truncate BEFORE TRUNCATE ON book_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('book revisions are append-only');
CREATE TRIGGER lists_append_only BEFORE UPDATE OR DELETE ON lists
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('posted lists are append-only');
CREATE TRIGGER lists_append_only_truncate BEFORE TRUNCATE ON lists
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('posted lists are append-only');
CREATE TRIGGER list_lines_append_only BEFORE UPDATE OR DELETE ON list_lines
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('posted lines are append-only');
CREATE TRIGGER list_lines_append_only_truncate BEFORE TRUNCATE ON list_lines
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('posted lines are append-only');
CREATE TRIGGER line_resolutions_append_only BEFORE UPDATE OR DELETE ON line_resolutions
    FOR EACH ROW EXECUTE FUNCTION jiamao_append_only('resolutions are append-only');
CREATE TRIGGER line_resolutions_append_only_truncate BEFORE TRUNCATE ON line_resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION jiamao_append_only('resolutions are append-only');
