# How far do feature spaces built from pixels alone go on Fashion-MNIST? Real-valued Euclidean
# ranking (not codes): mAP@all of 2,000 random test queries against the 60,000 training images, for
# pixels and for a spectral embedding of the 10-NN graph of all 70,000 images (transductive: an
# upper bound for what S from these features could teach). Run: python3 spectral.py 10
# (python3-numpy, python3-scipy; ~4 min on 2 cores). Results in docs/quality.md.
import os, sys, time
import numpy as np
import scipy.sparse as sp, scipy.sparse.linalg as sla
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import average_precision, images, labels  # noqa: E402
Xtr=images(); Xte=images('t10k-images-idx3-ubyte.gz')
ytr=labels(); yte=labels('t10k-labels-idx1-ubyte.gz')
rng=np.random.default_rng(0); qi=rng.choice(10000,2000,replace=False)
def mapall(Q,B,yq,yb):
    aps=[]
    for s in range(0,len(Q),200):
        q=Q[s:s+200]
        d = -q@B.T*2 + (B*B).sum(1)[None,:]
        for r in range(len(q)):
            o=np.argsort(d[r],kind='stable'); aps.append(average_precision(yb[o]==yq[s+r]))
    return np.mean(aps)
X=np.vstack([Xtr,Xte]); y=np.concatenate([ytr,yte])
t=time.time()
print('pixels euclid mAP', mapall(Xte[qi],Xtr,yte[qi],ytr), time.time()-t, flush=True)
# kNN graph on all 70k
k=int(sys.argv[1]) if len(sys.argv)>1 else 10
n=len(X); nb=np.zeros((n,k),np.int64); nd=np.zeros((n,k),np.float32); sq=(X*X).sum(1)
for s in range(0,n,2000):
    d=sq[s:s+2000,None]-2*X[s:s+2000]@X.T+sq[None,:]
    d[np.arange(d.shape[0]),np.arange(s,s+d.shape[0])]=np.inf
    p=np.argpartition(d,k,axis=1)[:,:k]; nb[s:s+2000]=p; nd[s:s+2000]=np.take_along_axis(d,p,1)
print('knn', time.time()-t, 'purity', (y[nb]==y[:,None]).mean(), flush=True)
sig=np.median(nd)
W=sp.csr_matrix((np.exp(-nd.ravel()/sig), (np.repeat(np.arange(n),k), nb.ravel())),shape=(n,n)); W=W.maximum(W.T)
deg=np.asarray(W.sum(1)).ravel(); Dm=sp.diags(1/np.sqrt(deg)); A=Dm@W@Dm
vals,vecs=sla.eigsh(A,k=65,which='LA',v0=np.random.default_rng(0).random(n))  # a fixed start: the same embedding every run
o=np.argsort(-vals); vecs=vecs[:,o]; print('eig', time.time()-t, vals[o][:12], flush=True)
E=vecs*(1/np.sqrt(deg))[:,None]
for dims in (16,32,64):
    F=E[:,1:dims+1]; F=F/np.linalg.norm(F,axis=1,keepdims=True)
    print('spectral',dims,'euclid mAP', mapall(F[60000+qi],F[:60000],yte[qi],ytr), flush=True)
    S=np.sign(F-F[:60000].mean(0)); print('spectral',dims,'sign mAP', mapall(S[60000+qi],S[:60000],yte[qi],ytr), flush=True)
