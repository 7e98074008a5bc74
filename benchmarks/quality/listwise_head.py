# Codes whose top of the ranking follows the hidden layer's: a hashing head (512-512-64, ReLU,
# tanh codes) on the frozen hidden layer of a stage-1 model, centred on the database's mean and
# scaled to unit length, trained by Adam with a listwise loss — for a batch of 256 database
# images, each one's code should be nearer (cosine of the tanh codes, temperature tau) to one of
# its 10 nearest images in the hidden layer than to the other 255 images' partners (InfoNCE) —
# optionally plus lam × the pairwise loss of blended_codes.py toward [hidden, w · spectral], the
# class structure. Ranked by Hamming distance, tie-aware, validation protocol only (database = the
# first 50,000 training images, queries = the last 10,000; two_part_codes.evaluate).
#
#   bgan-db encode --model S1 --hidden-layer --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-512 > h1.tsv
#   python3 listwise_head.py h1.tsv "tau=0.2" "tau=0.1" "tau=0.2;lam=50;w=1"
#   python3 listwise_head.py h1.tsv "split=40;lam=50;hidden=0"    # codes in two parts, linear heads
#
# split=F: the listwise head gives the first F bits and a second head, trained by the pairwise
# loss alone (lam), the others; hidden=0 makes both heads one linear layer (the encoder's own
# code layer on the frozen hidden layer). anchors=A and epochs=E: the listwise head's batch
# (A anchors and their partners; 256) and passes (20).
# (python3-numpy, python3-scipy; about 1.5 minutes per row on 2 cores.) Results: docs/quality.md.
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inductive_spectral import DATABASE, nearest, spectral, unit  # noqa: E402
from fashion_mnist import labels  # noqa: E402
from two_part_codes import evaluate  # noqa: E402


def train(features, partners, bits=64, hidden=512, epochs=20, lr=1e-3, tau=0.2, blend=None, lam=0.0, listwise=True, anchors=256, seed=1):
    """A head (hidden > 0: two layers; 0: one linear layer) trained by the listwise loss plus lam
    × the pairwise loss toward `blend`, or by the pairwise loss alone when `listwise` is off."""
    rng = np.random.default_rng(seed)
    n, d = features.shape
    if hidden == 0:
        params = [(rng.standard_normal((d, bits)) * np.sqrt(1 / d)).astype(np.float32), np.zeros(bits, np.float32)]
    else:
        params = [(rng.standard_normal((d, hidden)) * np.sqrt(2 / d)).astype(np.float32), np.zeros(hidden, np.float32),
                  (rng.standard_normal((hidden, bits)) * np.sqrt(1 / hidden)).astype(np.float32), np.zeros(bits, np.float32)]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n - anchors + 1, anchors):
            batch = order[start:start + anchors]
            positives = partners[batch, rng.integers(0, partners.shape[1], len(batch))]
            rows = np.concatenate([batch, positives])
            m = len(batch)
            if hidden == 0:
                h = features[rows]
                codes = np.tanh(h @ params[0] + params[1])
            else:
                w1, b1, w2, b2 = params
                h = np.maximum(features[rows] @ w1 + b1, 0)
                codes = np.tanh(h @ w2 + b2)
            dcodes = np.zeros_like(codes)
            if listwise:
                norms = np.linalg.norm(codes, axis=1, keepdims=True) + 1e-6
                z = codes / norms
                logits = z[:m] @ z[m:].T / tau
                logits -= logits.max(1, keepdims=True)
                probabilities = np.exp(logits)
                probabilities /= probabilities.sum(1, keepdims=True)
                g = probabilities
                g[np.arange(m), np.arange(m)] -= 1
                g /= m * tau
                dz = np.concatenate([g @ z[m:], g.T @ z[:m]])
                dcodes += (dz - z * (dz * z).sum(1, keepdims=True)) / norms
            if lam > 0:
                pairwise = codes @ codes.T / bits - blend[rows] @ blend[rows].T
                dcodes += lam * 4 * pairwise @ codes / bits / len(rows) ** 2
            du = dcodes * (1 - codes * codes)
            if hidden == 0:
                grads = [h.T @ du, du.sum(0)]
            else:
                dh = du @ w2.T * (h > 0)
                grads = [features[rows].T @ dh, dh.sum(0), h.T @ du, du.sum(0)]
            step += 1
            for p, gp, m1, m2 in zip(params, grads, first, second):
                m1 *= 0.9
                m1 += 0.1 * gp
                m2 *= 0.999
                m2 += 0.001 * gp * gp
                p -= lr * (m1 / (1 - 0.9 ** step)) / (np.sqrt(m2 / (1 - 0.999 ** step)) + 1e-8)
    if hidden == 0:
        return lambda x: x @ params[0] + params[1]
    w1, b1, w2, b2 = params
    return lambda x: np.maximum(x @ w1 + b1, 0) @ w2 + b2


def main():
    features = np.loadtxt(sys.argv[1], dtype=np.float32, delimiter="\t", ndmin=2)
    features = unit(features - features[:DATABASE].mean(0)).astype(np.float32)
    database = features[:DATABASE]
    lists = nearest(database, database, 10, True)
    embedding = unit(spectral(lists, 8)).astype(np.float32)
    classes = labels()
    print("| config | P@10 | P@100 | mAP@1000 | mAP@all | distinct |")
    for config in sys.argv[2:]:
        options = dict(item.split("=") for item in config.split(";"))
        w = float(options.get("w", 1))
        blend = (np.hstack([database, w * embedding]) / np.sqrt(1 + w * w)).astype(np.float32)
        hidden, bits, lam = int(options.get("hidden", 512)), int(options.get("bits", 64)), float(options.get("lam", 0))
        split = int(options.get("split", 0))
        head = train(database, lists, tau=float(options.get("tau", 0.2)), blend=blend, lam=0 if split else lam, hidden=hidden,
                     bits=split or bits, anchors=int(options.get("anchors", 256)), epochs=int(options.get("epochs", 20)))
        signs = np.where(head(features) > 0, 1.0, -1.0).astype(np.float32)
        if split:
            # Two parts: the listwise head's `split` bits beside a head of the other bits trained by
            # the pairwise loss alone (lam × toward [hidden, w · spectral]: cluster bits).
            cluster = train(database, lists, blend=blend, lam=lam, listwise=False, hidden=hidden, bits=bits - split)
            signs = np.hstack([signs, np.where(cluster(features) > 0, 1.0, -1.0).astype(np.float32)])
        p10, p100, m1000, mall, distinct = evaluate(signs, classes, np.random.default_rng(2026))
        print(f"| {config} | {p10:.3f} | {p100:.3f} | {m1000:.3f} | {mall:.3f} | {distinct:.1%} |", flush=True)


if __name__ == "__main__":
    main()
