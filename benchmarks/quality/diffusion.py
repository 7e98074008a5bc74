# Ranking by diffusion (manifold ranking, Zhou et al.) over the mutual k-NN graph of all 70,000
# Fashion-MNIST images: mAP@all of 300 test queries against the training images, and the label
# purity of the top 100/500/2000. Writes knn30.npz (the 30-NN lists, used by smoothing.py) in the
# working directory. Run: python3 diffusion.py (~5 min on 2 cores). Results in docs/quality.md.
import os, sys, time
import numpy as np
import scipy.sparse as sp
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import average_precision, images, labels  # noqa: E402
Xtr=images(); Xte=images('t10k-images-idx3-ubyte.gz')
ytr=labels(); yte=labels('t10k-labels-idx1-ubyte.gz')
X=np.vstack([Xtr,Xte]); y=np.concatenate([ytr,yte]); n=len(X)
t=time.time(); K=30
if not os.path.exists('knn30.npz'):
    nb=np.zeros((n,K),np.int32); nd=np.zeros((n,K),np.float32); sq=(X*X).sum(1)
    for s in range(0,n,2000):
        d=sq[s:s+2000,None]-2*X[s:s+2000]@X.T+sq[None,:]
        d[np.arange(d.shape[0]),np.arange(s,s+d.shape[0])]=np.inf
        p=np.argpartition(d,K,axis=1)[:,:K]; dd=np.take_along_axis(d,p,1); o=np.argsort(dd,1)
        nb[s:s+2000]=np.take_along_axis(p,o,1); nd[s:s+2000]=np.take_along_axis(dd,o,1)
    np.savez('knn30.npz',nb=nb,nd=nd)
z=np.load('knn30.npz'); nb=z['nb']; nd=z['nd']
print('knn',time.time()-t,flush=True)
rng=np.random.default_rng(0); qi=60000+rng.choice(10000,300,replace=False)
def ap(score,yq):  # score over train items, higher better
    return average_precision(ytr[np.argsort(-score,kind='stable')]==yq)
for k in (10,20):
    W=sp.csr_matrix((np.ones(n*k,np.float32),(np.repeat(np.arange(n),k),nb[:,:k].ravel())),shape=(n,n))
    W=W.minimum(W.T)  # mutual kNN
    deg=np.asarray(W.sum(1)).ravel()+1e-9; Dm=sp.diags(1/np.sqrt(deg)); A=(Dm@W@Dm).tocsr()
    for alpha in (0.9,0.99):
        E=np.zeros((n,len(qi)),np.float32); E[qi,np.arange(len(qi))]=1; F=E.copy()
        for it in range(30): F=alpha*(A@F)+E
        aps=[ap(F[:60000,j],y[q]) for j,q in enumerate(qi)]
        # purity of top-M by diffusion
        pur={M:np.mean([(ytr[np.argsort(-F[:60000,j])[:M]]==y[q]).mean() for j,q in enumerate(qi[:100])]) for M in (100,500,2000)}
        print('mutual k',k,'alpha',alpha,'diffusion mAP',np.mean(aps),'purity',pur,time.time()-t,flush=True)
