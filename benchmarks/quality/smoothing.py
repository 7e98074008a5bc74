# Graph smoothing, the feature space of `bgan-db train --neighbours-from smoothed:64:STEPS`:
# PCA-64 features averaged STEPS times over each image's k nearest neighbours, then real-valued
# Euclidean mAP@all (1,000 test queries) and 20-NN label purity (3,000 training images). Needs
# knn30.npz from diffusion.py in the working directory. Results in docs/quality.md.
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import average_precision, images, labels  # noqa: E402
Xtr=images(); Xte=images('t10k-images-idx3-ubyte.gz')
ytr=labels(); yte=labels('t10k-labels-idx1-ubyte.gz')
X=np.vstack([Xtr,Xte]); y=np.concatenate([ytr,yte]); n=len(X)
z=np.load('knn30.npz'); nb=z['nb']
rng=np.random.default_rng(0); qi=rng.choice(10000,1000,replace=False)
def mapall(Q,B,yq,yb):
    aps=[]; bb=(B*B).sum(1)
    for s in range(0,len(Q),250):
        d=-2*Q[s:s+250]@B.T+bb[None,:]
        for r in range(d.shape[0]):
            o=np.argsort(d[r],kind='stable'); aps.append(average_precision(yb[o]==yq[s+r]))
    return np.mean(aps)
mu=Xtr.mean(0); U,S,Vt=np.linalg.svd(Xtr[:20000]-mu,full_matrices=False); P=Vt[:64].T
F0=(X-mu)@P
def purity(F):
    sub=np.arange(0,60000,6)[:3000]; Ft=F[:60000]; bb=(Ft*Ft).sum(1)
    d=-2*F[sub]@Ft.T+bb[None,:]; d[np.arange(len(sub)),sub]=np.inf
    p=np.argpartition(d,20,1)[:,:20]; return (ytr[p]==ytr[sub][:,None]).mean()
for k in (10,20):
    F=F0.copy()
    for t in range(1,17):
        F=0.5*F+0.5*F[nb[:,:k]].mean(1)
        if t in (1,2,4,8,16):
            print('k',k,'t',t,'mAP',round(mapall(F[60000+qi],F[:60000],yte[qi],ytr),4),'purity20',round(purity(F),4),flush=True)
print('pca64 mAP',mapall(F0[60000+qi],F0[:60000],yte[qi],ytr),'purity',purity(F0))
