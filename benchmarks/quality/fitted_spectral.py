# Is the spectral targets' class structure lost in fitting or in binarising? An MLP head
# (64-256-8, ReLU, Adam, MSE, 30 epochs) on a frozen stage-1 model's unit features is fitted to
# the database's 8-d spectral embedding (inductive_spectral.py's, unit rows); held-out queries
# are ranked by the cosine of its outputs (least squares as a baseline), and codes are made of
# its outputs hashed by angular LSH to B bits (signs of random projections) beside 64 − B bits
# of stage 1's own signs, ranked by the summed Hamming distance. Validation protocol only
# (database = the first 50,000 training images, queries = the last 10,000, the stage-1 model
# trained on the first 50,000); real-valued rows on 2,000 random queries, code rows on all
# 10,000 (two_part_codes.evaluate, tie-aware).
#
#   bgan-db encode --model S1 --real-valued --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-64 > s1.tsv
#   python3 fitted_spectral.py s1.tsv
#
# (python3-numpy, python3-scipy; ~12 minutes on one core.) Results: docs/quality.md.
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import labels  # noqa: E402
from inductive_spectral import DATABASE, map_all, nearest, spectral, unit  # noqa: E402
from two_part_codes import evaluate  # noqa: E402


def mlp(width, hidden, out, rng):
    """Parameters of a one-hidden-layer ReLU network (He-initialised), and its forward pass."""
    params = [(rng.standard_normal((width, hidden)) * np.sqrt(2 / width)).astype(np.float32), np.zeros(hidden, np.float32),
              (rng.standard_normal((hidden, out)) * np.sqrt(1 / hidden)).astype(np.float32), np.zeros(out, np.float32)]

    def forward(x):
        w1, b1, w2, b2 = params
        return np.maximum(x @ w1 + b1, 0) @ w2 + b2
    return params, forward


def mlp_backward(params, x, output_gradient):
    """Gradients of the network's parameters, given the gradient of its outputs for inputs `x`."""
    w1, b1, w2, _ = params
    h = np.maximum(x @ w1 + b1, 0)
    hidden_gradient = output_gradient @ w2.T * (h > 0)
    return [x.T @ hidden_gradient, hidden_gradient.sum(0), h.T @ output_gradient, output_gradient.sum(0)]


def adam(params, rate=1e-3):
    """An Adam update of `params` in place: call the result with their gradients, step by step."""
    first, second = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    step = [0]

    def update(gradients):
        step[0] += 1
        for p, gp, m, v in zip(params, gradients, first, second):
            m *= 0.9
            m += 0.1 * gp
            v *= 0.999
            v += 0.001 * gp * gp
            p -= rate * (m / (1 - 0.9 ** step[0])) / (np.sqrt(v / (1 - 0.999 ** step[0])) + 1e-8)
    return update


def fit_head(inputs, targets, epochs=30, hidden=256, seed=1):
    """A one-hidden-layer ReLU network fitted to `targets` by Adam on the mean squared error."""
    rng = np.random.default_rng(seed)
    params, forward = mlp(inputs.shape[1], hidden, targets.shape[1], rng)
    update = adam(params)
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        for start in range(0, len(inputs), 256):
            batch = order[start:start + 256]
            x = inputs[batch]
            update(mlp_backward(params, x, 2 * (forward(x) - targets[batch]) / len(batch)))
    return forward


def main(path):
    classes = labels()
    features = unit(np.loadtxt(path, dtype=np.float32, delimiter="\t", ndmin=2))
    database, held_out = features[:DATABASE], features[DATABASE:]
    sample = np.random.default_rng(0).choice(len(held_out), 2000, replace=False)
    sample_labels, database_labels = classes[DATABASE:][sample], classes[:DATABASE]
    target = unit(spectral(nearest(database, database, 10, True), 8)).astype(np.float32)
    print("| real-valued, 2,000 queries | mAP@all |\n|---|---|")
    extended = target[nearest(held_out[sample], database, 10, False)].mean(axis=1)
    print(f"| the embedding (queries at their 10 database neighbours' mean) | {map_all(unit(extended), target, sample_labels, database_labels):.3f} |")
    with_bias = np.hstack([database, np.ones((DATABASE, 1), np.float32)])
    weights, *_ = np.linalg.lstsq(with_bias, target, rcond=None)
    linear = lambda x: np.hstack([x, np.ones((len(x), 1), np.float32)]) @ weights  # noqa: E731
    print(f"| least squares 64 → 8 | {map_all(unit(linear(held_out[sample])), unit(linear(database)), sample_labels, database_labels):.3f} |")
    head = fit_head(database, target)
    print(f"| MLP 64-256-8 | {map_all(unit(head(held_out[sample])), unit(head(database)), sample_labels, database_labels):.3f} |", flush=True)

    embedding = unit(head(features))
    stage1 = np.where(features > 0, 1.0, -1.0).astype(np.float32)
    lsh = np.where(embedding @ np.random.default_rng(7).standard_normal((8, 64)).astype(np.float32) > 0, 1.0, -1.0).astype(np.float32)
    print("\n| 64-bit code, 10,000 queries | P@10 | P@100 | mAP@1000 | mAP@all | distinct |\n|---|---|---|---|---|---|")
    rows = [("stage 1", stage1), ("LSH of the fitted embedding", lsh)]
    rows += [(f"LSH {b} + stage 1 {64 - b}", np.hstack([lsh[:, :b], stage1[:, :64 - b]])) for b in (8, 16, 24)]
    for name, signs in rows:
        p10, p100, map1000, map_all_, distinct = evaluate(signs, classes, np.random.default_rng(2026))
        print(f"| {name} | {p10:.3f} | {p100:.3f} | {map1000:.3f} | {map_all_:.3f} | {distinct:.1%} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
