"""Golden forward values for NeuralNet, computed by plain NumPy loops (no im2col, no BLAS).

    python3 Fixtures/nn/make_golden.py   # writes Fixtures/nn/golden.json

The network, layer by layer (names are the Swift parameter names):
    input (2, 1, 6, 6)
    conv      Conv2D 1->3, kernel 3, stride 2, padding 1      -> (2, 3, 3, 3)
    bn        BatchNormalization(3), training (batch stats)   -> (2, 3, 3, 3)
              LeakyReLU(0.2)
    deconv    ConvTranspose2D 3->2, kernel 4, stride 2, pad 1 -> (2, 2, 6, 6)
              ELU(1.0)
              Reshape (72)
    fc        Linear 72->5                                    -> (2, 5)
              ScaledTanh(beta = 3)  tanh(3x/2)
The test loads the parameters by name, runs the Swift network and compares every layer's output.
"""
import json
import os

import numpy as np

rng = np.random.default_rng(2026)


def conv2d(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    k_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, k_out, oh, ow), dtype=np.float64)
    for i in range(n):
        for k in range(k_out):
            for oy in range(oh):
                for ox in range(ow):
                    patch = xp[i, :, oy * stride: oy * stride + kh, ox * stride: ox * stride + kw]
                    y[i, k, oy, ox] = np.sum(patch * w[k]) + b[k]
    return y


def conv_transpose2d(x, w, b, stride, pad):
    n, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    oh = (h - 1) * stride - 2 * pad + kh
    ow = (wd - 1) * stride - 2 * pad + kw
    full = np.zeros((n, c_out, oh + 2 * pad, ow + 2 * pad), dtype=np.float64)
    for i in range(n):
        for ci in range(c_in):
            for y in range(h):
                for xx in range(wd):
                    full[i, :, y * stride: y * stride + kh, xx * stride: xx * stride + kw] += x[i, ci, y, xx] * w[ci]
    y = full[:, :, pad: pad + oh, pad: pad + ow]
    return y + b.reshape(1, -1, 1, 1)


def batch_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    return gamma.reshape(1, -1, 1, 1) * (x - mean) / np.sqrt(var + eps) + beta.reshape(1, -1, 1, 1)


def tensor(a):
    return {"shape": list(a.shape), "data": [float(v) for v in a.astype(np.float32).ravel()]}


params = {
    "conv.weight": rng.normal(0, 0.5, (3, 1, 3, 3)),
    "conv.bias": rng.normal(0, 0.1, (3,)),
    "bn.scale": rng.uniform(0.5, 1.5, (3,)),
    "bn.shift": rng.normal(0, 0.2, (3,)),
    "bn.running_mean": np.zeros(3),
    "bn.running_variance": np.ones(3),
    "deconv.weight": rng.normal(0, 0.3, (3, 2, 4, 4)),
    "deconv.bias": rng.normal(0, 0.1, (2,)),
    "fc.weight": rng.normal(0, 0.2, (5, 72)),
    "fc.bias": rng.normal(0, 0.1, (5,)),
}
params = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
x = rng.normal(0, 1, (2, 1, 6, 6)).astype(np.float32).astype(np.float64)

outputs = []
h = conv2d(x, params["conv.weight"], params["conv.bias"], 2, 1); outputs.append(("conv", h))
h = batch_norm(h, params["bn.scale"], params["bn.shift"]); outputs.append(("bn", h))
h = np.where(h > 0, h, 0.2 * h); outputs.append(("leaky_relu", h))
h = conv_transpose2d(h, params["deconv.weight"], params["deconv.bias"], 2, 1); outputs.append(("deconv", h))
h = np.where(h > 0, h, np.exp(np.minimum(h, 0)) - 1); outputs.append(("elu", h))
h = h.reshape(2, 72); outputs.append(("reshape", h))
h = h @ params["fc.weight"].T + params["fc.bias"]; outputs.append(("fc", h))
h = np.tanh(3 * h / 2); outputs.append(("smoothed_sign", h))

golden = {
    "input": tensor(x),
    "parameters": {k: tensor(v) for k, v in params.items()},
    "outputs": [{"layer": name, **tensor(v)} for name, v in outputs],
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
with open(path, "w") as f:
    json.dump(golden, f)
print(f"wrote {path}")
