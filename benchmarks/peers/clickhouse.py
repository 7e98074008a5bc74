"""A store's codes loaded into ClickHouse (chDB, the ClickHouse engine in-process) and searched there.

Usage: clickhouse.py BGAN_DB [COUNT] [QUERIES]. See clickhouse.sh.

For 64-bit codes (uniform, and clustered as learned codes are) and 256-bit ones (PDQ's length):
the codes are imported into a bgan-db store, exported with `bgan-db export --format ndjson`, loaded
into a MergeTree table with the SQL a ClickHouse cluster would run (the code as UInt64, UInt128 or
UInt256), and each query answered exactly there by

    SELECT key, bitCount(bitXor(code, q)) AS distance FROM codes ORDER BY distance LIMIT 10

Its 10 nearest distances must equal bgan-db's for every query; times are per query, one query at
a time, side by side in one run.

Then incremental sync (`sync_check`): a store with a change log (`create --change-log`) is loaded
into a ReplacingMergeTree from a full export, written to (codes replaced, new keys, removals),
and the changes since the export's cursor (`export --since CURSOR`) are applied in ClickHouse as
new row versions and deletion markers; the synced table must hold the store's items and answer
the same 10-NN distances.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import chdb
import chdb.session
import numpy as np

K = 10
TYPES = {64: "UInt64", 128: "UInt128", 256: "UInt256"}


def code_sets(count, queries, rng):
    """(name, database, queries) of uint8 rows in numpy.packbits layout."""
    uniform = rng.integers(0, 256, size=(count, 8), dtype=np.uint8)
    centres = rng.integers(0, 2, size=(1000, 64), dtype=np.uint8)
    bits = centres[rng.integers(0, 1000, size=count)]
    flips = rng.random(size=bits.shape) < 0.05
    clustered = np.packbits(bits ^ flips, axis=1)
    pdq_like = rng.integers(0, 256, size=(count // 10, 32), dtype=np.uint8)

    def near(database):
        rows = database[rng.integers(0, len(database), size=queries)].copy()
        unpacked = np.unpackbits(rows, axis=1)
        unpacked ^= (rng.random(size=unpacked.shape) < 0.03).astype(np.uint8)
        return np.packbits(unpacked, axis=1)

    return [("uniform 64-bit", uniform, rng.integers(0, 256, size=(queries, 8), dtype=np.uint8)),
            ("clustered 64-bit", clustered, near(clustered)),
            ("uniform 256-bit", pdq_like, near(pdq_like))]


def ours(bgan_db, store, queries_path):
    out = subprocess.run([bgan_db, "query", store, "--codes", queries_path, "-k", str(K), "--json"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    lines = [json.loads(line) for line in out]
    distances = [[n["distance"] for n in line["hits"]] for line in lines[:-1]]
    return lines[-1]["summary"]["millisecondsPerQuery"], distances


def theirs(session, table, code_type, queries):
    """ClickHouse's ms per query and 10 nearest distances, one query at a time."""
    distances = []
    started = time.perf_counter()
    for row in queries:
        q = f"reinterpretAs{code_type}(reverse(unhex('{row.tobytes().hex()}')))"
        result = session.query(f"SELECT bitCount(bitXor(code, {q})) AS distance FROM {table} ORDER BY distance LIMIT {K}", "CSV")
        distances.append([int(v) for v in result.bytes().decode().split()])
    return (time.perf_counter() - started) * 1000 / len(queries), distances


def load_ndjson(session, path, version):
    """Rows of a full or change export as versions of the synced table (a removal: deleted = 1)."""
    session.query(f"INSERT INTO synced SELECT id, key, if(op = 'remove', 0, reinterpretAsUInt64(reverse(unhex(code_hex)))), "
                  f"{version}, op = 'remove' "
                  f"FROM file('{path}', JSONEachRow, 'op String, id UInt32, key String, code_hex String') "
                  f"SETTINGS input_format_null_as_default = 1")


def sync_check(bgan_db, work, count, query_count, rng):
    """A replica in ClickHouse kept in sync with export --since; prints one table row."""
    store, codes_path, queries_path = (os.path.join(work, f) for f in ("sync-store", "sync-codes.npy", "sync-queries.npy"))
    full, delta = os.path.join(work, "full.ndjson"), os.path.join(work, "delta.ndjson")
    database = rng.integers(0, 256, size=(count, 8), dtype=np.uint8)
    np.save(codes_path, database)
    subprocess.run([bgan_db, "create", store, "--bare", "--bits", "64", "--change-log"], check=True, stderr=subprocess.DEVNULL)
    subprocess.run([bgan_db, "import", store, "--codes", codes_path], check=True, stderr=subprocess.DEVNULL)
    report = json.loads(subprocess.run([bgan_db, "export", store, "--format", "ndjson", full, "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    cursor = report["cursor"]

    session = chdb.session.Session(os.path.join(work, "chdb-sync"))
    session.query("DROP TABLE IF EXISTS synced")
    session.query("CREATE TABLE synced (id UInt32, key String, code UInt64, version UInt64, deleted UInt8) "
                  "ENGINE = ReplacingMergeTree(version, deleted) ORDER BY id")
    load_ndjson(session, full, cursor)

    # Writes after the export: 5,000 codes replaced, 5,000 new keys, 1,000 removals.
    changes = min(5000, count // 10)
    replaced_rows = rng.choice(count, size=changes, replace=False)
    new_codes = rng.integers(0, 256, size=(2 * changes, 8), dtype=np.uint8)
    keys = [str(r) for r in replaced_rows] + [f"new-{i}" for i in range(changes)]
    np.save(codes_path, new_codes)
    with open(codes_path + ".keys", "w") as f:
        f.write("\n".join(keys) + "\n")
    subprocess.run([bgan_db, "import", store, "--codes", codes_path, "--keys", codes_path + ".keys"], check=True, stderr=subprocess.DEVNULL)
    removed = [str(r) for r in rng.choice(count, size=changes // 5, replace=False)] + [f"new-{i}" for i in range(0, changes, 50)]
    subprocess.run([bgan_db, "delete", store, *removed], check=True, stderr=subprocess.DEVNULL)

    started = time.perf_counter()
    report = json.loads(subprocess.run([bgan_db, "export", store, "--format", "ndjson", delta, "--since", str(cursor), "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    export_seconds = time.perf_counter() - started
    started = time.perf_counter()
    load_ndjson(session, delta, report["cursor"])
    apply_seconds = time.perf_counter() - started
    # Queries with FINAL merge the row versions each time (~7x slower here with the delta as a
    # separate part); merging once after applying a batch keeps them close to a plain scan.
    started = time.perf_counter()
    session.query("OPTIMIZE TABLE synced FINAL")
    optimize_seconds = time.perf_counter() - started

    live = json.loads(subprocess.run([bgan_db, "stats", store, "--json"], check=True, capture_output=True, text=True).stdout)["items"]
    held = int(session.query("SELECT count() FROM synced FINAL", "CSV").bytes())
    assert held == live, f"the synced table holds {held} items, the store {live}"

    queries = rng.integers(0, 256, size=(query_count, 8), dtype=np.uint8)
    queries[: query_count // 2] = new_codes[rng.integers(0, len(new_codes), size=query_count // 2)]
    np.save(queries_path, queries)
    their_ms, their = theirs(session, "synced FINAL", "UInt64", queries)
    session.close()
    our_ms, our_distances = ours(bgan_db, store, queries_path)
    equal = their == [sorted(d) for d in our_distances]
    print(f"| {count:,} | {report['removed']:,} removals, {report['items']:,} upserts | {export_seconds:.2f} | {apply_seconds:.2f} + {optimize_seconds:.2f} | "
          f"{held:,} = {live:,} | {their_ms:.1f} | {our_ms:.3f} | {equal} |", flush=True)
    if not equal:
        sys.exit("after the sync, ClickHouse's 10 nearest distances differ from bgan-db's")


def main():
    bgan_db = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    query_count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rng = np.random.default_rng(2026)
    work = tempfile.mkdtemp(prefix="clickhouse-")
    print(f"chDB {chdb.__version__} (ClickHouse {chdb.query('SELECT version()', 'CSV').bytes().decode().strip().strip(chr(34))}); "
          f"exact {K}-NN; {query_count} queries; ms per query, one at a time")
    print("| codes | count | export ndjson (s) | ClickHouse load (s) | ClickHouse ms/query | bgan-db ms/query | ratio | distances equal |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for name, database, queries in code_sets(count, query_count, rng):
            bits = database.shape[1] * 8
            store, codes_path, queries_path = (os.path.join(work, f) for f in ("store", "codes.npy", "queries.npy"))
            ndjson = os.path.join(work, "codes.ndjson")
            shutil.rmtree(store, ignore_errors=True)
            np.save(codes_path, database)
            np.save(queries_path, queries)
            subprocess.run([bgan_db, "create", store, "--bare", "--bits", str(bits)], check=True, stderr=subprocess.DEVNULL)
            subprocess.run([bgan_db, "import", store, "--codes", codes_path], check=True, stderr=subprocess.DEVNULL)
            started = time.perf_counter()
            subprocess.run([bgan_db, "export", store, "--format", "ndjson", ndjson], check=True, stderr=subprocess.DEVNULL)
            export_seconds = time.perf_counter() - started

            session = chdb.session.Session(os.path.join(work, "chdb"))
            code_type = TYPES[bits]
            session.query("DROP TABLE IF EXISTS codes")
            session.query(f"CREATE TABLE codes (key String, code {code_type}) ENGINE = MergeTree ORDER BY tuple()")
            started = time.perf_counter()
            # code_hex is the code's bytes in order; reversed, they read as one little-endian integer.
            session.query(f"INSERT INTO codes SELECT key, reinterpretAs{code_type}(reverse(unhex(code_hex))) "
                          f"FROM file('{ndjson}', JSONEachRow, 'key String, code_hex String')")
            load_seconds = time.perf_counter() - started
            stored = int(session.query("SELECT count() FROM codes", "CSV").bytes())
            assert stored == len(database), f"ClickHouse holds {stored} of {len(database)} codes"

            their_ms, their = theirs(session, "codes", code_type, queries)
            session.close()
            shutil.rmtree(os.path.join(work, "chdb"), ignore_errors=True)

            our_ms, our_distances = ours(bgan_db, store, queries_path)
            equal = their == [sorted(d) for d in our_distances]
            print(f"| {name} | {len(database):,} | {export_seconds:.1f} | {load_seconds:.1f} | {their_ms:.1f} | {our_ms:.3f} | "
                  f"{their_ms / our_ms:.0f}× | {equal} |", flush=True)
            if not equal:
                sys.exit(f"{name}: ClickHouse's {K} nearest distances differ from bgan-db's")
        print()
        print("Incremental sync: full export, writes, then `export --since CURSOR` applied as row versions (ReplacingMergeTree ... FINAL)")
        print("| codes | changes since the export's cursor | export --since (s) | ClickHouse apply + OPTIMIZE FINAL (s) | items: ClickHouse = store | ClickHouse ms/query (FINAL) | bgan-db ms/query | distances equal |")
        print("|---|---|---|---|---|---|---|---|")
        sync_check(bgan_db, work, count, query_count, rng)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
