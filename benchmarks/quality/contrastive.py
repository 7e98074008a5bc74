# How good a feature space is a contrastive pre-training's output for S and its spectral targets?
# Real-valued ranking (not codes): purity of the 20-NN lists, mAP@all of 2,000 random test queries
# against the 60,000 training images by cosine, and of a spectral embedding of the 10-NN graph of
# all 70,000 images (transductive: an upper bound for what the targets could teach).
# Features come from the model itself:
#   bgan-db encode --model views.bganmodel --real-valued $F/train-images-idx3-ubyte.gz | cut -f1-64 > views.train.tsv
#   bgan-db encode --model views.bganmodel --real-valued $F/t10k-images-idx3-ubyte.gz  | cut -f1-64 > views.test.tsv
# Run: python3 contrastive.py views   (python3-numpy, python3-scipy; ~2 min on 2 cores).
import gzip, sys
import numpy as np
import scipy.sparse as sp, scipy.sparse.linalg as sla

D = '/usr/share/datasets/fashion-mnist/'
def idx(f, off): return np.frombuffer(gzip.open(D + f).read(), np.uint8, offset=off)
ytr = idx('train-labels-idx1-ubyte.gz', 8); yte = idx('t10k-labels-idx1-ubyte.gz', 8)
name = sys.argv[1]
Ftr = np.loadtxt(name + '.train.tsv', dtype=np.float32); Fte = np.loadtxt(name + '.test.tsv', dtype=np.float32)
queries = np.random.default_rng(0).choice(10000, 2000, replace=False)

def map_all(Q, B, yq, yb):
    aps = []
    for s in range(0, len(Q), 200):
        d = -2 * Q[s:s + 200] @ B.T + (B * B).sum(1)[None, :]
        for r in range(d.shape[0]):
            order = np.argsort(d[r], kind='stable'); relevant = yb[order] == yq[s + r]
            hits = np.cumsum(relevant); at = np.nonzero(relevant)[0]
            aps.append((hits[at] / (at + 1)).mean())
    return np.mean(aps)

def unit(F): return F / np.linalg.norm(F, axis=1, keepdims=True)
X = unit(np.vstack([Ftr, Fte])); y = np.concatenate([ytr, yte]); n = len(X)
print('cosine mAP@all', round(map_all(X[60000 + queries], X[:60000], yte[queries], ytr), 3), flush=True)
k = 20; nb = np.zeros((n, k), np.int64); nd = np.zeros((n, k), np.float32)
for s in range(0, n, 2000):
    d = 2 - 2 * X[s:s + 2000] @ X.T
    d[np.arange(d.shape[0]), np.arange(s, s + d.shape[0])] = np.inf
    p = np.argpartition(d, k, axis=1)[:, :k]; nb[s:s + 2000] = p; nd[s:s + 2000] = np.take_along_axis(d, p, 1)
print('20-NN label purity', round((y[nb] == y[:, None]).mean(), 3), flush=True)
order = np.argsort(nd, 1)[:, :10]; nb10 = np.take_along_axis(nb, order, 1)
W = sp.csr_matrix((np.ones(n * 10, np.float32), (np.repeat(np.arange(n), 10), nb10.ravel())), shape=(n, n)); W = W.maximum(W.T)
degree = np.asarray(W.sum(1)).ravel(); Dm = sp.diags(1 / np.sqrt(degree))
values, vectors = sla.eigsh(Dm @ W @ Dm, k=17, which='LA'); vectors = vectors[:, np.argsort(-values)]
E = vectors / np.sqrt(degree)[:, None]
for dims in (6, 8, 10, 16):
    F = unit(E[:, 1:dims + 1])
    print('spectral', dims, 'mAP@all', round(map_all(F[60000 + queries], F[:60000], yte[queries], ytr), 3), flush=True)
