#!/usr/bin/env python3
"""Jiamao's 报核 report against DuckDB's, on the same synthetic enterprise (issue 3, docs/perf.md).

Usage:
    python3 bench/reconcile_vs_duckdb.py --gen DIR --jiamao target/release/jiamao [--work WORKDIR] [--runs 5]

DIR is the output of `jiamao gen --out DIR` (book.json, lists-*.json). The script
1. posts DIR into a fresh Jiamao SQLite database (`jiamao book import`, `jiamao list post`),
2. loads the same documents into a DuckDB database file (DECIMAL columns; the 9-decimal 单耗 computed
   here with Python's decimal module, as FORMAT.md defines it, because DuckDB divides DECIMALs in
   floating point), with 2 threads,
3. measures, side by side:
   - end to end, as a user runs it: `jiamao reconcile BOOK --json` (a new process on the embedded store)
     against DuckDB answering the same report from its own database file (a new connection), with
     the CPU time spent inside the Jiamao process;
   - the recomputation kernel with the movement lines in memory: Jiamao's `reconcile --verify`
     kernel against DuckDB's query over in-memory tables;
4. checks the two reports are equal, figure by figure, after the report's own rounding (5 places,
   half away from zero), and prints medians and ratios.
"""

import argparse
import decimal
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal

decimal.getcontext().prec = 60
Q9 = Decimal("0.000000001")
Q5 = Decimal("0.00001")

MATERIAL_FIGURES = ["opening", "imported", "carried_in", "surplus_in", "replaced_in", "consumed", "domestic_sold", "re_exported",
                    "replaced_out", "surplus_out", "destroyed", "leftover_accrued", "leftover_disposed", "should_remain"]
PRODUCT_FIGURES = ["exported", "carried_out", "domestic_sold", "returned", "reexported", "destroyed"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def round5(d):
    return d.quantize(Q5, rounding=decimal.ROUND_HALF_UP) if d >= 0 else -((-d).quantize(Q5, rounding=decimal.ROUND_HALF_UP))


def plain(d):
    d = round5(Decimal(d))
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    return s


def load_duckdb(gen_dir, db_path, threads):
    import duckdb
    book = json.load(open(os.path.join(gen_dir, "book.json")))
    if os.path.exists(db_path):
        os.remove(db_path)
    con = duckdb.connect(db_path)
    con.execute(f"SET threads = {threads}")
    import csv

    def bulk(table, columns, rows):
        # CSV and COPY: DuckDB's executemany is far too slow for hundreds of thousands of rows.
        path = f"{db_path}.{table}.csv"
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        con.execute(f"CREATE TABLE {table} ({columns})")
        con.execute(f"COPY {table} FROM '{path}' (HEADER false, NULLSTR '')")
        os.remove(path)

    bulk("materials", "seq INTEGER, opening DECIMAL(38,5)", [(m["seq"], m.get("opening_qty", "0")) for m in book["materials"]])
    bulk("products", "seq INTEGER", [(p["seq"],) for p in book["products"]])
    bom = []
    for c in book["consumption"]:
        share = Decimal(c.get("bonded_share", "1"))
        if "unit_consumption" in c:
            uc, net, t, i = Decimal(c["unit_consumption"]), None, Decimal(0), Decimal(0)
        else:
            net = Decimal(c["net"])
            t = Decimal(c.get("tangible_loss_rate", "0"))
            i = Decimal(c.get("intangible_loss_rate", "0"))
            uc = (net / (1 - t - i)).quantize(Q9, rounding=decimal.ROUND_HALF_UP)
        # Leftover base per unit, exact; divided by (t+i) only at the end, per (material, loss) bucket.
        lbase = share * (uc - net) * t if (net is not None and t != 0) else Decimal(0)
        bom.append((c["product_seq"], c["material_seq"], c["version"], c["valid_from"], str(uc), str(share), str(lbase), str(t + i)))
    bulk("bom", "product_seq INTEGER, material_seq INTEGER, version VARCHAR, valid_from DATE, uc DECIMAL(38,9), share DECIMAL(38,9), lbase DECIMAL(38,18), loss DECIMAL(38,9)", bom)
    # The 单耗 version each product line uses, resolved here as Jiamao resolved it at posting time
    # (the line's own, else the one in force on the list's date), so both sides start from the same
    # stored facts.
    import bisect
    versions = {}
    for c in book["consumption"]:
        versions.setdefault(c["product_seq"], set()).add((c["valid_from"], c["version"]))
    versions = {p: sorted(v) for p, v in versions.items()}
    lists_csv = db_path + ".lists.csv"
    lines_csv = db_path + ".lines.csv"
    with open(lists_csv, "w", newline="") as lf, open(lines_csv, "w", newline="") as df:
        lw, dw = csv.writer(lf), csv.writer(df)
        for f in sorted(x for x in os.listdir(gen_dir) if x.startswith("lists") and x.endswith(".json")):
            for l in json.load(open(os.path.join(gen_dir, f))):
                lw.writerow([l["list_no"], l["declared_on"], l["direction"], l["goods"], l["trade_mode"]])
                for ln in l["lines"]:
                    version = ln.get("consumption_version")
                    if version is None and l["goods"] != "material":
                        vs = versions.get(ln["item_seq"], [])
                        k = bisect.bisect_right(vs, (l["declared_on"], "\uffff")) - 1
                        version = vs[k][1] if k >= 0 else None
                    dw.writerow([l["list_no"], ln["line"], ln["item_seq"], ln["qty"], ln.get("amount", ""), version or ""])
    con.execute("CREATE TABLE lists (list_no VARCHAR, declared_on DATE, direction VARCHAR, goods VARCHAR, trade_mode VARCHAR)")
    con.execute("CREATE TABLE lines (list_no VARCHAR, line INTEGER, item_seq INTEGER, qty DECIMAL(38,5), amount DECIMAL(38,2), version VARCHAR)")
    con.execute(f"COPY lists FROM '{lists_csv}' (HEADER false)")
    con.execute(f"COPY lines FROM '{lines_csv}' (HEADER false, NULLSTR '')")
    os.remove(lists_csv)
    os.remove(lines_csv)
    con.close()
    return book["book_no"]


# The report in SQL: material lines by movement, product lines through the 单耗 version in force on
# the list's date (or the one the line names), and leftover bases by (material, loss) bucket.
REPORT_SQL = """
WITH l AS (
  SELECT d.item_seq, d.qty, d.amount, d.version, s.declared_on, s.direction, s.goods, s.trade_mode
  FROM lines d JOIN lists s USING (list_no)
),
mat AS (
  SELECT item_seq AS seq,
    SUM(CASE WHEN direction='I' AND trade_mode IN ('0615','0214','0715') THEN qty ELSE 0 END) AS imported,
    SUM(CASE WHEN direction='I' AND trade_mode IN ('0654','0255') THEN qty ELSE 0 END) AS carried_in,
    SUM(CASE WHEN direction='I' AND trade_mode IN ('0657','0258') THEN qty ELSE 0 END) AS surplus_in,
    SUM(CASE WHEN direction='I' AND trade_mode IN ('0700','0300') THEN qty ELSE 0 END) AS replaced_in,
    SUM(CASE WHEN direction='E' AND trade_mode IN ('0644','0245','0544','0545') THEN qty ELSE 0 END) AS domestic_sold,
    SUM(CASE WHEN direction='E' AND trade_mode IN ('0664','0265') THEN qty ELSE 0 END) AS re_exported,
    SUM(CASE WHEN direction='E' AND trade_mode IN ('0700','0300') THEN qty ELSE 0 END) AS replaced_out,
    SUM(CASE WHEN direction='E' AND trade_mode IN ('0657','0258') THEN qty ELSE 0 END) AS surplus_out,
    SUM(CASE WHEN direction='E' AND trade_mode = '0200' THEN qty ELSE 0 END) AS destroyed,
    SUM(CASE WHEN direction='E' AND trade_mode IN ('0844','0845','0864','0865','0400') THEN qty ELSE 0 END) AS leftover_disposed
  FROM l WHERE goods = 'material' GROUP BY item_seq
),
prod AS (
  SELECT l.item_seq AS product_seq, l.qty, l.version,
    CASE WHEN l.trade_mode IN ('0644','0245','0544','0545','0444','0445') THEN 'domestic_sold'
         WHEN l.trade_mode = '0200' THEN 'destroyed' ELSE 'consumed' END AS figure,
    CASE WHEN l.trade_mode IN ('4600','4400') AND l.direction = 'I' THEN -l.qty ELSE l.qty END AS signed
  FROM l WHERE goods <> 'material'
),
grp AS (SELECT product_seq, version, figure, SUM(signed) AS q FROM prod GROUP BY ALL),
exploded AS (
  SELECT g.figure, g.q, b.material_seq, b.uc, b.share, b.lbase, b.loss
  FROM grp g JOIN bom b ON b.product_seq = g.product_seq AND b.version = g.version
),
conv AS (
  SELECT material_seq AS seq,
    SUM(CASE WHEN figure='consumed' THEN q*uc*share ELSE 0 END) AS consumed,
    SUM(CASE WHEN figure='domestic_sold' THEN q*uc*share ELSE 0 END) AS domestic_sold,
    SUM(CASE WHEN figure='destroyed' THEN q*uc*share ELSE 0 END) AS destroyed
  FROM exploded GROUP BY material_seq
),
left_base AS (SELECT material_seq AS seq, loss, SUM(q*lbase) AS base FROM exploded WHERE lbase <> 0 GROUP BY ALL)
SELECT m.seq, m.opening,
  COALESCE(mat.imported,0), COALESCE(mat.carried_in,0), COALESCE(mat.surplus_in,0), COALESCE(mat.replaced_in,0),
  COALESCE(conv.consumed,0), COALESCE(mat.domestic_sold,0) + COALESCE(conv.domestic_sold,0), COALESCE(mat.re_exported,0),
  COALESCE(mat.replaced_out,0), COALESCE(mat.surplus_out,0), COALESCE(mat.destroyed,0) + COALESCE(conv.destroyed,0),
  COALESCE(mat.leftover_disposed,0),
  (SELECT list(struct_pack(loss := CAST(lb.loss AS VARCHAR), base := CAST(lb.base AS VARCHAR))) FROM left_base lb WHERE lb.seq = m.seq) AS buckets
FROM materials m LEFT JOIN mat USING (seq) LEFT JOIN conv USING (seq) ORDER BY m.seq
"""

PRODUCT_SQL = """
SELECT p.seq,
  COALESCE(SUM(CASE WHEN s.direction='E' AND s.trade_mode IN ('0615','0214') THEN d.qty END),0),
  COALESCE(SUM(CASE WHEN s.direction='E' AND s.trade_mode IN ('0654','0255') THEN d.qty END),0),
  COALESCE(SUM(CASE WHEN s.trade_mode IN ('0644','0245','0544','0545','0444','0445') THEN d.qty END),0),
  COALESCE(SUM(CASE WHEN s.direction='I' AND s.trade_mode IN ('4600','4400') THEN d.qty END),0),
  COALESCE(SUM(CASE WHEN s.direction='E' AND s.trade_mode IN ('4600','4400') THEN d.qty END),0),
  COALESCE(SUM(CASE WHEN s.trade_mode = '0200' THEN d.qty END),0)
FROM products p LEFT JOIN lines d ON d.item_seq = p.seq LEFT JOIN lists s ON s.list_no = d.list_no AND s.goods <> 'material'
WHERE s.list_no IS NOT NULL OR d.list_no IS NULL
GROUP BY p.seq ORDER BY p.seq
"""


def duck_report(con, book_no, book):
    rows = con.execute(REPORT_SQL).fetchall()
    prows = con.execute(PRODUCT_SQL).fetchall()
    tangible = {}
    materials = []
    for r in rows:
        seq, opening = r[0], Decimal(r[1])
        f = [Decimal(x) for x in r[2:13]]
        imported, carried_in, surplus_in, replaced_in, consumed, domestic_sold, re_exported, replaced_out, surplus_out, destroyed, disposed = f
        accrued = Decimal(0)
        for b in (r[13] or []):
            # base = Σ q·share·(uc−net)·t; leftover = base / (t+i)
            accrued += Decimal(b["base"]) / Decimal(b["loss"])
        should = opening + imported + carried_in + surplus_in + replaced_in - consumed - domestic_sold - re_exported - replaced_out - surplus_out - destroyed
        materials.append({"seq": seq, "opening": plain(opening), "imported": plain(imported), "carried_in": plain(carried_in), "surplus_in": plain(surplus_in),
                          "replaced_in": plain(replaced_in), "consumed": plain(consumed), "domestic_sold": plain(domestic_sold), "re_exported": plain(re_exported),
                          "replaced_out": plain(replaced_out), "surplus_out": plain(surplus_out), "destroyed": plain(destroyed),
                          "leftover_accrued": plain(accrued), "leftover_disposed": plain(disposed), "should_remain": plain(should)})
    products = [dict(zip(["seq"] + PRODUCT_FIGURES, [r[0]] + [plain(Decimal(x)) for x in r[1:]])) for r in prows]
    return {"book_no": book_no, "materials": materials, "products": products}


def time_duck_file(db_path, book_no, book, threads):
    import duckdb
    t0 = time.perf_counter()
    con = duckdb.connect(db_path, read_only=True)
    con.execute(f"SET threads = {threads}")
    rep = duck_report(con, book_no, book)
    con.close()
    return time.perf_counter() - t0, rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", required=True)
    ap.add_argument("--jiamao", required=True)
    ap.add_argument("--work", default="/tmp/jiamao-vs-duckdb")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-load", action="store_true", help="reuse the databases of an earlier run")
    ap.add_argument("--reuse-jiamao", action="store_true", help="reuse the Jiamao database of an earlier run, load DuckDB again")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    jdb = os.path.join(a.work, "jiamao.db")
    ddb = os.path.join(a.work, "duck.db")
    book = json.load(open(os.path.join(a.gen, "book.json")))
    book_no = book["book_no"]
    files = sorted(x for x in os.listdir(a.gen) if x.startswith("lists") and x.endswith(".json"))
    if not a.skip_load and not a.reuse_jiamao:
        for suffix in ["", "-wal", "-shm"]:
            if os.path.exists(jdb + suffix):
                os.remove(jdb + suffix)
        t0 = time.perf_counter()
        run([a.jiamao, "--db", jdb, "book", "import", os.path.join(a.gen, "book.json")])
        for f in files:
            out = subprocess.run([a.jiamao, "--db", jdb, "list", "post", os.path.join(a.gen, f), "--json"], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"posting {f} failed: {out.stderr[-2000:]}")
        print(f"jiamao: posted {len(files)} files in {time.perf_counter() - t0:.1f} s")
    if not a.skip_load:
        t0 = time.perf_counter()
        load_duckdb(a.gen, ddb, a.threads)
        print(f"duckdb: loaded in {time.perf_counter() - t0:.1f} s")

    # End to end: a new process / a new connection each time.
    # Besides the wall time, the CPU time (user + system) spent inside the new process: getrusage of
    # the waited children, which counts jiamao and the /usr/bin/time wrapper (about a millisecond)
    # that reports its peak memory.
    jt, jcpu, dt = [], [], []
    jrep = drep = None
    for _ in range(a.runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = run(["/usr/bin/time", "-f", "%M", a.jiamao, "--db", jdb, "reconcile", book_no, "--json"])
        jt.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        jcpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        jrep = json.loads(out.stdout)
        peak_kib = int(out.stderr.strip().splitlines()[-1])
        d, drep = time_duck_file(ddb, book_no, book, a.threads)
        dt.append(d)
    equal = jrep == drep
    if not equal:
        for m1, m2 in zip(jrep["materials"], drep["materials"]):
            if m1 != m2:
                print("first difference:", json.dumps(m1), json.dumps(m2))
                break
        for p1, p2 in zip(jrep["products"], drep["products"]):
            if p1 != p2:
                print("first product difference:", json.dumps(p1), json.dumps(p2))
                break
    jm, dm = statistics.median(jt), statistics.median(dt)
    print(f"end to end, report of {len(jrep['materials'])} materials:")
    print(f"  jiamao reconcile --json (new process)   median {jm*1000:9.1f} ms   runs {' '.join(f'{x*1000:.1f}' for x in jt)}   peak RSS {peak_kib/1024:.1f} MiB")
    print(f"    CPU time inside the process (user + system)  median {statistics.median(jcpu)*1000:.1f} ms   runs {' '.join(f'{x*1000:.1f}' for x in jcpu)}")
    print(f"  duckdb from its database file           median {dm*1000:9.1f} ms   runs {' '.join(f'{x*1000:.1f}' for x in dt)}")
    print(f"  ratio: jiamao is {dm/jm:.1f}x faster; reports equal: {equal}")
    print(f"  issue 3 targets: at least 10x faster: {'met' if dm / jm >= 10 else 'NOT met'}; at most 50 ms inside the process: {'met' if statistics.median(jcpu) <= 0.050 else 'NOT met'}")

    # The kernel: movement lines already in memory.
    import duckdb
    mem = duckdb.connect(":memory:")
    mem.execute(f"SET threads = {a.threads}")
    mem.execute(f"ATTACH '{ddb}' AS f (READ_ONLY)")
    for t in ["materials", "products", "bom", "lists", "lines"]:
        mem.execute(f"CREATE TABLE {t} AS SELECT * FROM f.{t}")
    mem.execute("DETACH f")
    kt, dk = [], []
    for _ in range(a.runs):
        out = run([a.jiamao, "--db", jdb, "reconcile", book_no, "--verify", "--json"])
        kt.append(json.loads(out.stdout)["kernel_ms"] / 1000)
        t0 = time.perf_counter()
        rep = duck_report(mem, book_no, book)
        dk.append(time.perf_counter() - t0)
    km, dkm = statistics.median(kt), statistics.median(dk)
    print("recomputation kernel, lines in memory:")
    print(f"  jiamao --verify kernel                  median {km*1000:9.1f} ms   runs {' '.join(f'{x*1000:.1f}' for x in kt)}")
    print(f"  duckdb over in-memory tables            median {dkm*1000:9.1f} ms   runs {' '.join(f'{x*1000:.1f}' for x in dk)}")
    print(f"  ratio: jiamao is {dkm/km:.1f}x faster; duckdb's in-memory report equals jiamao's: {rep == jrep}")
    print(f"python peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MiB")
    sys.exit(0 if equal and rep == jrep else 1)


if __name__ == "__main__":
    main()
