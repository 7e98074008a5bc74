# How good a feature space is a contrastive pre-training's output for S and its spectral targets?
# Real-valued ranking (not codes): purity of the 20-NN lists, mAP@all of 2,000 random test queries
# against the 60,000 training images by cosine, and of a spectral embedding of the 10-NN graph of
# all 70,000 images (transductive: an upper bound for what the targets could teach;
# inductive_spectral.py measures what survives for images outside the graph).
# Features come from the model itself:
#   bgan-db encode --model views.bganmodel --real-valued $F/train-images-idx3-ubyte.gz | cut -f1-64 > views.train.tsv
#   bgan-db encode --model views.bganmodel --real-valued $F/t10k-images-idx3-ubyte.gz  | cut -f1-64 > views.test.tsv
# Run: python3 contrastive.py views   (python3-numpy, python3-scipy; ~1 min on 2 cores).
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import labels  # noqa: E402
from inductive_spectral import map_all, nearest, spectral, unit  # noqa: E402


def main(name):
    train_labels, test_labels = labels("train-labels-idx1-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    train = np.loadtxt(name + ".train.tsv", dtype=np.float32, ndmin=2)
    test = np.loadtxt(name + ".test.tsv", dtype=np.float32, ndmin=2)
    queries = np.random.default_rng(0).choice(len(test), 2000, replace=False)
    features = unit(np.vstack([train, test]))
    everyone = np.concatenate([train_labels, test_labels])
    database = len(train)

    def ranked(rows):
        return round(map_all(rows[database + queries], rows[:database], test_labels[queries], train_labels), 3)

    print("cosine mAP@all", ranked(features), flush=True)
    neighbors = nearest(features, features, 20, True)
    print("20-NN label purity", round((everyone[neighbors] == everyone[:, None]).mean(), 3), flush=True)
    embedding = spectral(neighbors[:, :10], 16)
    for dimensions in (6, 8, 10, 16):
        print("spectral", dimensions, "mAP@all", ranked(unit(embedding[:, :dimensions])), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
