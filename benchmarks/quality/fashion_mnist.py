# Fashion-MNIST as Debian's dataset-fashion-mnist installs it, and the average precision every
# script here reports: one home for what they all read and rank.
import gzip

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist/"


def images(name="train-images-idx3-ubyte.gz"):
    """The images of an IDX image file of the data set, one row of 784 values in [0, 1] each."""
    return np.frombuffer(gzip.open(DATA + name).read()[16:], dtype=np.uint8).reshape(-1, 784).astype(np.float32) / 255


def labels(name="train-labels-idx1-ubyte.gz"):
    """The class of every image in an IDX label file of the data set."""
    return np.frombuffer(gzip.open(DATA + name).read()[8:], dtype=np.uint8)


def average_precision(relevant):
    """Average precision of a ranking, given whether each ranked item is relevant, in rank order."""
    hits, at = np.cumsum(relevant), np.nonzero(relevant)[0]
    return (hits[at] / (at + 1)).mean()
