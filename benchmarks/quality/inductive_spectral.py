# How much of the spectral embedding's class structure is there for images it never saw? The
# 0.632 mAP@all of contrastive.py is transductive (the queries sit in the 10-NN graph). Here, in
# the validation protocol (database = the first 50,000 training images, queries = the last
# 10,000, features from a stage-1 model trained on the first 50,000), the embedding is computed
# on the database's graph alone, and each query is placed at the mean of its 10 nearest database
# images' embeddings (the out-of-sample extension of a random walk on the graph). Both are ranked
# by cosine (real vectors, not codes) against the database, beside the transductive embedding of
# all 60,000 and the features themselves; 2,000 random queries.
#
#   bgan-db encode --model S1 --real-valued --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-64 > s1.tsv
#   python3 inductive_spectral.py s1.tsv
#
# (python3-numpy, python3-scipy; a few minutes on 2 cores.) Results: docs/quality.md.
import os
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import average_precision, labels  # noqa: E402

DATABASE = 50000


def unit(f):
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def ranking_figures(queries, database, query_labels, database_labels):
    """P@10 and mAP@all of ranking `database` by the inner product with each of `queries` (real
    vectors: ties have probability zero)."""
    precisions, aps = [], []
    for start in range(0, len(queries), 200):
        similarities = queries[start:start + 200] @ database.T
        for row in range(similarities.shape[0]):
            order = np.argsort(-similarities[row], kind="stable")
            relevant = database_labels[order] == query_labels[start + row]
            precisions.append(relevant[:10].mean())
            aps.append(average_precision(relevant))
    return np.mean(precisions), np.mean(aps)


def map_all(queries, database, query_labels, database_labels):
    return ranking_figures(queries, database, query_labels, database_labels)[1]


def nearest(rows, among, k, exclude_self):
    """Indices of the k most similar rows of `among` (unit vectors) to each of `rows`."""
    result = np.zeros((len(rows), k), np.int64)
    for start in range(0, len(rows), 2000):
        similarities = rows[start:start + 2000] @ among.T
        if exclude_self:
            similarities[np.arange(similarities.shape[0]), np.arange(start, start + similarities.shape[0])] = -np.inf
        top = np.argpartition(-similarities, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarities, top, 1), axis=1)
        result[start:start + 2000] = np.take_along_axis(top, order, 1)
    return result


def spectral(neighbors, dimensions):
    """Rows of the `dimensions` leading non-trivial eigenvectors of the normalised 10-NN graph."""
    n, k = neighbors.shape
    graph = sp.csr_matrix((np.ones(n * k, np.float32), (np.repeat(np.arange(n), k), neighbors.ravel())), shape=(n, n))
    graph = graph.maximum(graph.T)
    degree = np.asarray(graph.sum(1)).ravel()
    scaling = sp.diags(1 / np.sqrt(degree))
    start = np.random.default_rng(0).random(n)  # a fixed start vector: the same embedding on every run
    values, vectors = sla.eigsh(scaling @ graph @ scaling, k=dimensions + 1, which="LA", v0=start)
    vectors = vectors[:, np.argsort(-values)] / np.sqrt(degree)[:, None]
    return vectors[:, 1:dimensions + 1]


def main(path, dimensions=8):
    classes = labels()
    features = unit(np.loadtxt(path, dtype=np.float32, delimiter="\t", ndmin=2))
    database, held_out = features[:DATABASE], features[DATABASE:]
    queries = np.random.default_rng(0).choice(len(held_out), 2000, replace=False)
    query_labels, database_labels = classes[DATABASE:][queries], classes[:DATABASE]
    print(f"| features by cosine | {map_all(held_out[queries], database, query_labels, database_labels):.3f} |", flush=True)
    everything = spectral(nearest(features, features, 10, True), dimensions)
    embedded = unit(everything)
    print(f"| spectral {dimensions}, transductive (queries in the graph) | "
          f"{map_all(embedded[DATABASE:][queries], embedded[:DATABASE], query_labels, database_labels):.3f} |", flush=True)
    inside = spectral(nearest(database, database, 10, True), dimensions)
    outside = inside[nearest(held_out[queries], database, 10, False)].mean(axis=1)
    print(f"| spectral {dimensions}, inductive (database graph; queries at their 10 neighbours' mean) | "
          f"{map_all(unit(outside), unit(inside), query_labels, database_labels):.3f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
