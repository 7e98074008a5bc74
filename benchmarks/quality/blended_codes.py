# Can 64-bit codes hold a whole class together and tell near neighbours apart at once? First the
# real-valued ceiling: validation queries ranked by the cosine of [features, w · spectral], the
# stage-1 model's unit features beside the database graph's 8-d spectral embedding (inductive:
# each query at the mean of its 10 nearest database images' rows), for several weights w, with
# the centred raw pixels' cosine as a reference. Then
# codes made to reproduce that blend: a hashing head (64-512-B, ReLU, tanh codes) on the frozen
# features, trained by Adam on a pairwise loss — the mean squared difference between the codes'
# normalised inner products and the blended cosines of a batch of 128 database images and one of
# each one's 10 nearest neighbours — so that a query needs only its features: ranked by Hamming
# distance, tie-aware. Validation protocol only (database = the first 50,000 training images,
# queries = the last 10,000, the stage-1 model trained on the first 50,000); real-valued rows on
# 2,000 random queries, code rows on all 10,000 (two_part_codes.evaluate).
#
#   bgan-db encode --model S1 --real-valued --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-64 > s1.tsv
#   python3 blended_codes.py s1.tsv real 0.5,1,1.5,2,3      # the real-valued rows
#   python3 blended_codes.py s1.tsv codes "w=1" "w=1;bits=128" "w=0.5;epochs=90;hidden=1024"
#   bgan-db encode --model S1 --hidden-layer --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-512 > h1.tsv
#   python3 blended_codes.py h1.tsv codes "w=0" --centre      # the hidden layer, centred on the database's mean
#
# (python3-numpy, python3-scipy; about 2 minutes for the real rows, 3 to 5 per code row, one
# core.) Results: docs/quality.md.
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fitted_spectral import adam, mlp, mlp_backward  # noqa: E402
from fashion_mnist import images, labels  # noqa: E402
from inductive_spectral import DATABASE, nearest, ranking_figures, spectral, unit  # noqa: E402
from two_part_codes import evaluate  # noqa: E402


def real_rows(features, classes, weights):
    database, held_out = features[:DATABASE], features[DATABASE:]
    sample = np.random.default_rng(0).choice(len(held_out), 2000, replace=False)
    sample_labels, database_labels = classes[DATABASE:][sample], classes[:DATABASE]
    inside = spectral(nearest(database, database, 10, True), 8)
    outside = unit(inside[nearest(held_out[sample], database, 10, False)].mean(axis=1))
    inside = unit(inside)
    print("| real-valued, 2,000 queries | P@10 | mAP@all |\n|---|---|---|")
    pixels = images()
    pixels = unit(pixels - pixels[:DATABASE].mean(0))
    rows = [("pixels (centred)", pixels[DATABASE:][sample], pixels[:DATABASE]), ("features", held_out[sample], database),
            ("spectral 8 (inductive)", outside, inside)]
    rows += [(f"[features, {w} · spectral]", unit(np.hstack([held_out[sample], w * outside])), unit(np.hstack([database, w * inside])))
             for w in weights]
    for name, queries, ranked in rows:
        precision, mean_ap = ranking_figures(queries, ranked, sample_labels, database_labels)
        print(f"| {name} | {precision:.3f} | {mean_ap:.3f} |", flush=True)


def hashing_head(features, blended, partners, bits, hidden, epochs, seed=1):
    """The head's forward pass after training its tanh codes' inner products toward `blended`'s."""
    rng = np.random.default_rng(seed)
    params, forward = mlp(features.shape[1], hidden, bits, rng)
    update = adam(params)
    for _ in range(epochs):
        order = rng.permutation(len(features))
        for start in range(0, len(features) - 127, 128):
            anchors = order[start:start + 128]
            batch = np.concatenate([anchors, partners[anchors, rng.integers(0, partners.shape[1], len(anchors))]])
            x, target = features[batch], blended[batch] @ blended[batch].T
            codes = np.tanh(forward(x))
            error = codes @ codes.T / bits - target
            code_gradient = 4 * error @ codes / (bits * len(batch) ** 2)
            update(mlp_backward(params, x, code_gradient * (1 - codes * codes)))
    return forward


def code_rows(features, classes, configurations):
    database = features[:DATABASE]
    neighbors = nearest(database, database, 10, True)
    embedding = unit(spectral(neighbors, 8)).astype(np.float32)
    print("| code (w, bits, hidden units, epochs) | P@10 | P@100 | mAP@1000 | mAP@all | distinct |\n|---|---|---|---|---|---|")
    for configuration in configurations:
        options = dict(item.split("=") for item in configuration.split(";"))
        w = float(options.get("w", 1))
        bits, hidden, epochs = (int(options.get(name, default)) for name, default in (("bits", 64), ("hidden", 512), ("epochs", 30)))
        blended = (np.hstack([database, w * embedding]) / np.sqrt(1 + w * w)).astype(np.float32)
        head = hashing_head(database, blended, neighbors, bits, hidden, epochs)
        signs = np.where(head(features) > 0, 1.0, -1.0).astype(np.float32)
        p10, p100, map1000, map_all, distinct = evaluate(signs, classes, np.random.default_rng(2026))
        print(f"| {w}, {bits}, {hidden}, {epochs} | {p10:.3f} | {p100:.3f} | {map1000:.3f} | {map_all:.3f} | {distinct:.1%} |", flush=True)


def main(path, mode, *arguments):
    classes = labels()
    features = np.loadtxt(path, dtype=np.float32, delimiter="\t", ndmin=2)
    if "--centre" in arguments:
        # A leaky-ReLU layer's features sit off the origin, so their cosines crowd; centred, they spread.
        arguments = tuple(a for a in arguments if a != "--centre")
        features = features - features[:DATABASE].mean(0)
    features = unit(features)
    if mode == "real":
        real_rows(features, classes, [float(w) for w in (arguments[0] if arguments else "0.5,1,1.5,2,3").split(",")])
    else:
        code_rows(features, classes, arguments or ["w=1"])


if __name__ == "__main__":
    main(*sys.argv[1:])
