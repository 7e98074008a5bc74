"""faiss and bgan-db side by side on the same binary codes (one thread, exact 10-NN, or every
code within a radius).

Usage: peers.py DIR BGAN_DB [QUERIES] [RADIUS]. See run.sh. QUERIES (default 1000) limits the
queries per file, for the slow exhaustive and multi-hash searches at 10^7. With RADIUS, each
query asks for every code within RADIUS bits (faiss IndexBinaryFlat.range_search against
bgan-db query --radius) instead of the 10 nearest. MULTIHASH_QUERIES=N in the environment gives
faiss's multi-hash index only the first N of them (0: leave it out), for learned codes at 10^8,
whose crowded buckets cost it seconds per query.
"""
import glob
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import faiss
import numpy as np

K = 10


def time_search(index, queries):
    index.search(queries[:1], K)
    start = time.perf_counter()
    distances, _ = index.search(queries, K)
    return (time.perf_counter() - start) * 1000 / len(queries), distances


def time_range_search(index, queries, radius):
    index.range_search(queries[:1], radius + 1)
    start = time.perf_counter()
    limits, distances, _ = index.range_search(queries, radius + 1)  # faiss keeps distances < its radius
    elapsed = (time.perf_counter() - start) * 1000 / len(queries)
    return elapsed, [sorted(distances[limits[i]:limits[i + 1]].tolist()) for i in range(len(queries))]


def main_radius(directory, bgan_db, limit, radius):
    print(f"faiss {faiss.__version__}; one thread; every code within {radius} bits; ms per query; up to {limit} queries per file")
    print("| codes | faiss IndexBinaryFlat range_search | bgan-db (auto) | bgan-db paths | results per query | bgan-db results = faiss |")
    print("|---|---|---|---|---|---|")
    for name, database_path, queries_path, database, queries, bits in workloads(directory, limit):
        flat = faiss.IndexBinaryFlat(bits)
        flat.add(database)
        flat_ms, flat_distances = time_range_search(flat, queries, radius)
        del flat
        ours_ms, ours_distances, paths = bgan(bgan_db, database_path, queries_path, bits, ["--radius", str(radius)])
        exact = ours_distances == flat_distances
        per_query = sum(len(d) for d in flat_distances) / len(queries)
        print(f"| {name} | {flat_ms:.3f} | {ours_ms:.4f} | {paths} | {per_query:.2f} | {exact} |", flush=True)


def bgan(bgan_db, database_path, queries_path, bits, search_arguments):
    """ms per query, each query's distances sorted, and the planner's paths, from bgan-db on a fresh store."""
    store = tempfile.mkdtemp(prefix="peers-") + "/store"
    try:
        subprocess.run([bgan_db, "create", store, "--bits", str(bits)], check=True, stderr=subprocess.DEVNULL)
        subprocess.run([bgan_db, "import", store, "--codes", database_path], check=True, stderr=subprocess.DEVNULL)
        out = subprocess.run([bgan_db, "query", store, "--codes", queries_path, *search_arguments, "--json"],
                             check=True, capture_output=True, text=True).stdout.splitlines()
        lines = [json.loads(line) for line in out]
        summary = lines[-1]["summary"]
        distances = [sorted(hit["distance"] for hit in line["hits"]) for line in lines[:-1]]
        return summary["millisecondsPerQuery"], distances, summary["paths"]
    finally:
        shutil.rmtree(os.path.dirname(store), ignore_errors=True)


def workloads(directory, limit):
    """(name, database path, queries path, database, queries, bits) for each pair in DIR, queries cut to `limit`."""
    for database_path in sorted(glob.glob(os.path.join(directory, "*.database.npy"))):
        name = os.path.basename(database_path)[: -len(".database.npy")]
        queries_path = database_path.replace(".database.npy", ".queries.npy")
        database, queries = np.load(database_path), np.load(queries_path)[:limit]
        if len(queries) < len(np.load(queries_path)):
            queries_path = os.path.join(tempfile.mkdtemp(prefix="peers-"), "queries.npy")
            np.save(queries_path, queries)
        yield name, database_path, queries_path, database, queries, database.shape[1] * 8


def main():
    directory, bgan_db = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    faiss.omp_set_num_threads(1)
    if len(sys.argv) > 4:
        return main_radius(directory, bgan_db, limit, int(sys.argv[4]))
    multi_hash_queries = int(os.environ.get("MULTIHASH_QUERIES") or limit)
    print(f"faiss {faiss.__version__}; one thread; exact {K}-NN; ms per query; up to {limit} queries per file")
    print("| codes | faiss IndexBinaryFlat | faiss IndexBinaryMultiHash (nflip=3) | bgan-db (auto) | bgan-db paths | bgan-db distances = faiss Flat |")
    print("|---|---|---|---|---|---|")
    for name, database_path, queries_path, database, queries, bits in workloads(directory, limit):
        flat = faiss.IndexBinaryFlat(bits)
        flat.add(database)
        flat_ms, flat_distances = time_search(flat, queries)
        del flat
        multi_ms = multi_hash_ms(database, queries[:multi_hash_queries], bits)
        ours_ms, ours_distances, paths = bgan(bgan_db, database_path, queries_path, bits, ["-k", str(K)])
        exact = bool((np.array(ours_distances) == np.sort(flat_distances, axis=1)).all())
        multi = "left out" if multi_ms is None else f"{multi_ms:.3f}"
        if multi_ms is not None and multi_hash_queries < len(queries):
            multi += f" ({multi_hash_queries} queries)"
        print(f"| {name} | {flat_ms:.3f} | {multi} | {ours_ms:.4f} | {paths} | {exact} |", flush=True)


def multi_hash_ms(database, queries, bits):
    """ms per query of faiss's multi-hash index (nflip 3, not exact) on `queries`; None for none."""
    if len(queries) == 0:
        return None
    tables = max(1, round(bits / max(4.0, round(math.log2(len(database))))))
    multi = faiss.IndexBinaryMultiHash(bits, tables, bits // tables)
    multi.add(database)
    multi.nflip = 3
    return time_search(multi, queries)[0]


if __name__ == "__main__":
    main()
