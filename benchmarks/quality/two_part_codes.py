# Would a two-part code rank better than one trained to blended targets? Some bits from a model
# trained to cluster targets alone (spectral), the rest from fine-similarity codes (stage-1 signs,
# ITQ on stage-1 outputs, or the blended model), concatenated, ranked by the summed Hamming
# distance. Validation protocol only: database = the first 50,000 training images, queries = the
# last 10,000, the models trained with --limit 50000 or less. Tie-aware P@10 and P@100 (exact
# expectation over random tie orders); mAP@1000 and mAP@all with one random tie order per query
# (within 0.001 of the expectation over 10,000 queries); distinct codes among the database's.
# Its rows for a single model equal `bgan-db eval --validation 10000`'s (checked on two models).
#
#   bgan-db encode --model M --real-valued --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-64 > m.tsv
#   python3 two_part_codes.py --itq s1.tsv:48 itq48.tsv          # ITQ rotation of real outputs
#   python3 two_part_codes.py NAME=spec.tsv:0-16+itq48.tsv …     # one table row per NAME
#
# (python3-numpy; ~2.5 minutes per row on one core.) Results: docs/quality.md.
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import labels as fashion_labels  # noqa: E402

DATABASE, QUERIES = 50000, 10000


def load(path):
    return np.loadtxt(path, dtype=np.float64, delimiter="\t", ndmin=2)


def itq(values, bits, seed=2026, iterations=50):
    """Gong & Lazebnik's ITQ fitted on the database rows: PCA to `bits`, then the rotation
    that brings the projections nearest their signs."""
    centred = values - values[:DATABASE].mean(0)
    _, _, vt = np.linalg.svd(centred[:DATABASE], full_matrices=False)
    projected = centred @ vt[:bits].T
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((bits, bits)))
    for _ in range(iterations):
        signs = np.sign(projected[:DATABASE] @ rotation)
        u, _, wt = np.linalg.svd(signs.T @ projected[:DATABASE])
        rotation = (u @ wt).T
    return projected @ rotation


def tie_aware_precision(sorted_distances, sorted_relevant, k):
    """Expected precision at k when the items at the k-th distance come in random order."""
    kth = sorted_distances[k - 1]
    nearer = sorted_distances < kth
    at = sorted_distances == kth
    expected = sorted_relevant[nearer].sum() + (k - nearer.sum()) * sorted_relevant[at].sum() / at.sum()
    return expected / k


def evaluate(signs, labels, rng):
    database, queries = signs[:DATABASE], signs[DATABASE:DATABASE + QUERIES]
    bits = signs.shape[1]
    totals = np.zeros(4)
    for start in range(0, QUERIES, 500):
        distances = np.rint((bits - queries[start:start + 500] @ database.T) / 2).astype(np.int32)
        for row, d in enumerate(distances):
            relevant = labels[:DATABASE] == labels[DATABASE + start + row]
            order = np.lexsort((rng.random(d.shape[0]), d))
            r, ds = relevant[order], d[order]
            precision = np.cumsum(r) / np.arange(1, len(r) + 1)
            totals += (tie_aware_precision(ds, r, 10), tie_aware_precision(ds, r, 100),
                       (precision[:1000] * r[:1000]).sum() / max(r[:1000].sum(), 1),
                       (precision * r).sum() / max(r.sum(), 1))
    distinct = len(np.unique(np.packbits(database > 0, axis=1), axis=0)) / DATABASE
    return (*(totals / QUERIES), distinct)


def columns(spec, cache):
    """`FILE` or `FILE:FROM-TO`, each the sign of those columns of FILE's values."""
    path, _, span = spec.partition(":")
    if path not in cache:
        cache[path] = np.where(load(path) > 0, 1.0, -1.0).astype(np.float32)
    low, high = (int(x) for x in span.split("-")) if span else (0, cache[path].shape[1])
    return cache[path][:, low:high]


def main(arguments):
    if arguments[:1] == ["--itq"]:
        source, _, bits = arguments[1].partition(":")
        np.savetxt(arguments[2], itq(load(source), int(bits)), delimiter="\t", fmt="%.5f")
        return
    labels = fashion_labels()
    rng, cache = np.random.default_rng(2026), {}
    print("| code | bits | P@10 | P@100 | mAP@1000 | mAP@all | distinct |")
    print("|---|---|---|---|---|---|---|")
    for argument in arguments:
        name, _, expression = argument.partition("=")
        signs = np.concatenate([columns(part, cache) for part in expression.split("+")], axis=1)
        p10, p100, map1000, map_all, distinct = evaluate(signs, labels, rng)
        print(f"| {name} | {signs.shape[1]} | {p10:.3f} | {p100:.3f} | {map1000:.3f} | {map_all:.3f} | {distinct:.1%} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
