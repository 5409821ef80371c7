"""Runs the queries of docs/export.md over an export directory in DuckDB or Spark.

    export_queries.py duckdb|spark EXPORT_DIR DOC

Prints one JSON object: {query name: {"columns": [...], "rows": [[...], ...]}}. The tables are
made known exactly as docs/export.md shows; the query text is taken from the page (each
```sql block after a `<!-- query: NAME -->` line), so the page and the test cannot drift.
Driven by tools/tests/export_engines.rs, which compares the answers with wsktrace's own.
"""

import decimal
import json
import re
import sys

TABLES = ["files", "events", "registrations", "captures", "findings", "boot"]


def queries(doc):
    text = open(doc, encoding="utf-8").read()
    found = re.findall(r"<!-- query: (\w+) -->\s*```sql\n(.*?)```", text, re.S)
    if not found:
        sys.exit(f"{doc}: no queries found")
    return dict(found)


def plain(v):
    if isinstance(v, decimal.Decimal):
        return int(v)
    return v


def run_duckdb(export_dir, qs):
    import duckdb

    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{export_dir}/{t}.parquet')")
    out = {}
    for name, sql in qs.items():
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        out[name] = {"columns": cols, "rows": [[plain(v) for v in r] for r in cur.fetchall()]}
    return out


def run_spark(export_dir, qs):
    from pyspark.sql import SparkSession

    # Small data, one short-lived JVM: one core, one shuffle partition, the quick JIT tier
    # and no whole-stage code generation (compiling it costs more than running these
    # queries); none of this changes an answer.
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("wsktrace-export-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.driver.memory", "512m")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for t in TABLES:
            spark.read.parquet(f"{export_dir}/{t}.parquet").createOrReplaceTempView(t)
        out = {}
        for name, sql in qs.items():
            df = spark.sql(sql)
            out[name] = {
                "columns": df.columns,
                "rows": [[plain(v) for v in r] for r in df.collect()],
            }
        return out
    finally:
        spark.stop()


def main():
    engine, export_dir, doc = sys.argv[1:4]
    qs = queries(doc)
    run = {"duckdb": run_duckdb, "spark": run_spark}[engine]
    json.dump(run(export_dir, qs), sys.stdout)
    print()


if __name__ == "__main__":
    main()
