# Are a model's bits unbalanced, and would per-bit thresholds fix more than that? Codes are
# sign(h - t) of the model's real-valued outputs h, with t = 0 (what the encoder does) or each
# bit's median over the database (every bit +1 for exactly half of it: balance by construction,
# what Bi-half, arXiv 2012.12334, enforces while training). Validation protocol of
# two_part_codes.py (database = the first 50,000 training images, queries = the last 10,000).
#
#   bgan-db encode --model M --real-valued --limit 60000 $F/train-images-idx3-ubyte.gz | cut -f1-64 > m.tsv
#   python3 thresholds.py m.tsv
#
# (python3-numpy; ~2.5 minutes per row on one core.) Results: docs/quality.md.
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import labels as fashion_labels  # noqa: E402
from two_part_codes import DATABASE, evaluate, load  # noqa: E402


def main(path):
    labels = fashion_labels()
    outputs = load(path)
    print("| thresholds | P@10 | P@100 | mAP@1000 | mAP@all | distinct | mean abs(P(+1) − ½) |")
    print("|---|---|---|---|---|---|---|")
    for name, thresholds in [("zero", np.zeros(outputs.shape[1])), ("database median", np.median(outputs[:DATABASE], axis=0))]:
        signs = np.where(outputs - thresholds > 0, 1.0, -1.0).astype(np.float32)
        imbalance = np.abs((signs[:DATABASE] > 0).mean(0) - 0.5).mean()
        p10, p100, map1000, map_all, distinct = evaluate(signs, labels, np.random.default_rng(2026))
        print(f"| {name} | {p10:.3f} | {p100:.3f} | {map1000:.3f} | {map_all:.3f} | {distinct:.1%} | {imbalance:.3f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
