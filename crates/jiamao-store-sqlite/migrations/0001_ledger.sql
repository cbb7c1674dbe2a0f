-- Jiamao ledger schema, version 1. Shipped migrations are never edited; add a new file instead.
-- Everything here is append-only: triggers refuse UPDATE and DELETE of filed and posted records.
-- The enterprise (经营企业, by its unified social credit code) is part of every key (以企业为单元).

-- Which enterprise owns each book number (book numbers are unique across enterprises).
CREATE TABLE book_directory (
    book_no    TEXT NOT NULL PRIMARY KEY,
    enterprise TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE book_revisions (
    enterprise TEXT    NOT NULL,
    book_no    TEXT    NOT NULL,
    revision   INTEGER NOT NULL CHECK (revision >= 1),
    doc        TEXT    NOT NULL,          -- the book document, canonical JSON
    PRIMARY KEY (enterprise, book_no, revision)
) WITHOUT ROWID;

CREATE TABLE lists (
    id                   INTEGER PRIMARY KEY,   -- posting order
    enterprise           TEXT    NOT NULL,
    list_no              TEXT    NOT NULL,
    book_no              TEXT    NOT NULL,
    declared_on          TEXT    NOT NULL,      -- YYYY-MM-DD
    direction            TEXT    NOT NULL CHECK (direction IN ('I', 'E')),
    goods                TEXT    NOT NULL CHECK (goods IN ('material', 'product', 'defective')),
    trade_mode           TEXT    NOT NULL,
    counterparty_book_no TEXT,
    declaration_no       TEXT,
    line_count           INTEGER NOT NULL CHECK (line_count >= 1),
    canonical            TEXT    NOT NULL,      -- the list as posted, canonical JSON (idempotency)
    UNIQUE (enterprise, list_no)
);
CREATE INDEX lists_by_book ON lists (enterprise, book_no, id);

CREATE TABLE list_lines (
    list_id             INTEGER NOT NULL,
    pos                 INTEGER NOT NULL,       -- position in the document, from 0
    line                INTEGER NOT NULL,
    item_seq            INTEGER NOT NULL,
    qty                 TEXT    NOT NULL,       -- exact decimal, plain notation
    amount              TEXT,
    consumption_version TEXT,                   -- as declared on the line
    version             TEXT,                   -- the 单耗 version used; NULL: material line or pending
    origin_country      TEXT,
    legal_qty           TEXT,
    second_legal_qty    TEXT,
    PRIMARY KEY (list_id, pos)
) WITHOUT ROWID;

-- Versions given later to product lines posted while their 单耗 was pending (报核前).
CREATE TABLE line_resolutions (
    list_id       INTEGER NOT NULL,
    line          INTEGER NOT NULL,
    version       TEXT    NOT NULL,
    book_revision INTEGER NOT NULL,
    PRIMARY KEY (list_id, line)
) WITHOUT ROWID;

CREATE TRIGGER book_directory_append_only_u BEFORE UPDATE ON book_directory BEGIN SELECT RAISE(ABORT, 'the book directory is append-only'); END;
CREATE TRIGGER book_directory_append_only_d BEFORE DELETE ON book_directory BEGIN SELECT RAISE(ABORT, 'the book directory is append-only'); END;
CREATE TRIGGER book_revisions_append_only_u BEFORE UPDATE ON book_revisions BEGIN SELECT RAISE(ABORT, 'book revisions are append-only'); END;
CREATE TRIGGER book_revisions_append_only_d BEFORE DELETE ON book_revisions BEGIN SELECT RAISE(ABORT, 'book revisions are append-only'); END;
CREATE TRIGGER lists_append_only_u BEFORE UPDATE ON lists BEGIN SELECT RAISE(ABORT, 'posted lists are append-only'); END;
CREATE TRIGGER lists_append_only_d BEFORE DELETE ON lists BEGIN SELECT RAISE(ABORT, 'posted lists are append-only'); END;
CREATE TRIGGER list_lines_append_only_u BEFORE UPDATE ON list_lines BEGIN SELECT RAISE(ABORT, 'posted lines are append-only'); END;
CREATE TRIGGER list_lines_append_only_d BEFORE DELETE ON list_lines BEGIN SELECT RAISE(ABORT, 'posted lines are append-only'); END;
CREATE TRIGGER line_resolutions_append_only_u BEFORE UPDATE ON line_resolutions BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
CREATE TRIGGER line_resolutions_append_only_d BEFORE DELETE ON line_resolutions BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
