#!/usr/bin/env python3
"""Golden outputs of the bundled encoders, computed independently of the Swift engine.

Reads each bundled model file byte by byte (the container of Files/DigestedFile.swift and the
parameter blob of NeuralNet/ParameterFile.swift, both documented in docs/on-disk-format.md), runs
the encoder in inference mode in NumPy float64 (convolutions as explicit patch sums, batch
normalisation with the running statistics, leaky ReLU 0.2, the hidden and code layers; for a model
whose header sets mirrorAveraging, the mean of the outputs for the image and its mirror image; for
one whose architecture sets standardisedInput, each image first brought to mean 0 and variance 1
over all its values, ε 1e-4; with robustStandardisation too, by the mean and deviation of its
values winsorised at their 5th and 95th percentiles instead, clipped to ±3) on a fixed set of
Fashion-MNIST test images — for the RGB photo model the same images made into 32×32 colour ones
(`photo_image`) — and writes the real-valued outputs h
and the codes (bit i set where h_i > 0, BinaryCode's order) to bundled-codes.json; for a model
whose stores keep another refinement vector than h (the photo model: refinementVectors
hidden-layer, refinementPixels), that vector too: the layer (mirror-averaged as h is) at unit
length, then the standardised input averaged over side x side blocks per channel (and with its
mirror image for a mirror-averaging model) at length sqrt(weight).
BundledCodeTests compares the Swift encoder with them. Run again whenever the bundled models change:

    python3 Fixtures/nn/make_bundled_codes.py
"""
import gzip
import hashlib
import json
import os
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "Fixtures", "models")
IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
INDICES = list(range(0, 10_000, 417)) + [9_999]


def read_model(path):
    data = open(path, "rb").read()
    body, digest = data[:-32], data[-32:]
    assert hashlib.sha256(body).digest() == digest, "digest mismatch"
    assert body[:8] == b"BGANMODL"
    version, header_length = struct.unpack_from("<II", body, 8)
    offset = 16
    header = json.loads(body[offset:offset + header_length])
    architecture = header["architecture"]
    expected = (5 if header.get("refinementVectors") == "hidden-layer" else 4 if architecture.get("robustStandardisation")
                else 3 if architecture.get("standardisedInput") else 2 if header.get("mirrorAveraging") else 1)
    assert version == expected, ("format version 5 with refinementVectors hidden-layer, else 4 with robustStandardisation, "
                                 "else 3 with standardisedInput, else 2 with mirrorAveraging, else 1")
    offset += header_length
    (blob_length,) = struct.unpack_from("<Q", body, offset)
    offset += 8
    blob = body[offset:offset + blob_length]
    return header, read_parameters(blob), digest.hex()


def read_parameters(blob):
    assert blob[:8] == b"BGANPRM1"
    _, count = struct.unpack_from("<II", blob, 8)
    offset = 16
    entries = []
    for _ in range(count):
        (name_length,) = struct.unpack_from("<H", blob, offset)
        offset += 2
        name = blob[offset:offset + name_length].decode()
        offset += name_length
        _, rank = struct.unpack_from("<BB", blob, offset)
        offset += 2
        shape = struct.unpack_from("<%dI" % rank, blob, offset)
        offset += 4 * rank
        entries.append((name, shape))
    (value_count,) = struct.unpack_from("<Q", blob, offset)
    offset += 8
    values = np.frombuffer(blob, dtype="<f4", count=value_count, offset=offset).astype(np.float64)
    parameters, start = {}, 0
    for name, shape in entries:
        size = int(np.prod(shape))
        parameters[name] = values[start:start + size].reshape(shape)
        start += size
    assert start == value_count
    return parameters


def convolve(x, weight, bias, stride=2, padding=1):
    """x: (C, H, W); weight: (O, C, K, K); cross-correlation with zero padding."""
    channels, height, width = x.shape
    outputs, _, k, _ = weight.shape
    padded = np.zeros((channels, height + 2 * padding, width + 2 * padding))
    padded[:, padding:padding + height, padding:padding + width] = x
    out_h = (height + 2 * padding - k) // stride + 1
    out_w = (width + 2 * padding - k) // stride + 1
    y = np.empty((outputs, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = padded[:, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, i, j] = np.tensordot(weight, patch, axes=([1, 2, 3], [0, 1, 2])) + bias
    return y


def normalise(x, p, name, epsilon=1e-5):
    shape = (-1,) + (1,) * (x.ndim - 1)
    mean = p[name + ".running_mean"].reshape(shape)
    variance = p[name + ".running_variance"].reshape(shape)
    return p[name + ".scale"].reshape(shape) * (x - mean) / np.sqrt(variance + epsilon) + p[name + ".shift"].reshape(shape)


def leaky(x, slope=0.2):
    return np.where(x > 0, x, slope * x)


def order_statistic(values, share):
    """The sorted values' entry at floor(share * (n - 1)), the product taken in single precision
    as RobustSampleStandardization takes it."""
    return np.sort(values, axis=None)[int(np.float32(share) * np.float32(values.size - 1))]


def standardise(image, robust):
    if not robust:
        return (image - image.mean()) / np.sqrt(image.var() + 1e-4)
    values = image.astype(np.float32)
    lower, upper = order_statistic(values, 0.05), order_statistic(values, np.float32(1) - np.float32(0.05))
    kept = np.clip(values, lower, upper).astype(np.float64)
    mean = kept.mean()
    variance = max(0.0, (kept * kept).mean() - mean * mean)
    return np.clip((image - np.float64(np.float32(mean))) / np.sqrt(variance + 1e-4), -3, 3)


def encode(image, p, standardised=False, robust=False):
    """The hidden layer and h above it, one after the other."""
    if standardised:
        image = standardise(image, robust)
    x = leaky(normalise(convolve(image, p["encoder.conv1.weight"], p["encoder.conv1.bias"]), p, "encoder.bn1"))
    x = leaky(normalise(convolve(x, p["encoder.conv2.weight"], p["encoder.conv2.bias"]), p, "encoder.bn2"))
    x = x.reshape(-1)
    x = leaky(normalise(p["encoder.hidden.weight"] @ x + p["encoder.hidden.bias"], p, "encoder.bn3"))
    return np.concatenate([x, p["encoder.code.weight"] @ x + p["encoder.code.bias"]])


def code_hex(h):
    bits = (h > 0).astype(np.uint8)
    return bytes(np.packbits(bits)).hex()


def photo_image(gray):
    """A 32x32 RGB image (3, 32, 32 uint8) from a 28x28 gray one: padded by 2 pixels of 0, red the
    image, green its negative, blue half of it (rounded down). BundledCodeTests builds the same."""
    padded = np.zeros((32, 32), dtype=np.uint8)
    padded[2:30, 2:30] = gray
    return np.stack([padded, 255 - padded, padded // 2])


def layers_of(header, parameters, inputs):
    """(hidden layers, outputs h) of `inputs`, each averaged with its mirror image's when the model says so."""
    standardised = bool(header["architecture"].get("standardisedInput"))
    robust = bool(header["architecture"].get("robustStandardisation"))
    if header.get("mirrorAveraging"):
        rows = [(encode(x, parameters, standardised, robust) + encode(x[:, :, ::-1], parameters, standardised, robust)) / 2 for x in inputs]
    else:
        rows = [encode(x, parameters, standardised, robust) for x in inputs]
    units = parameters["encoder.hidden.bias"].shape[0]
    return [r[:units] for r in rows], [r[units:] for r in rows]


def refinement_vectors(header, hidden, outputs, inputs):
    """The vectors a store bound to the model keeps, or None when they are the outputs h themselves."""
    by_hidden = header.get("refinementVectors") == "hidden-layer"
    pixels = header.get("refinementPixels")
    layers = hidden if by_hidden else outputs
    if pixels is None:
        return layers if by_hidden else None
    robust = bool(header["architecture"].get("robustStandardisation"))
    side, weight = pixels["side"], pixels["weight"]
    vectors = []
    for layer, x in zip(layers, inputs):
        z = standardise(x, robust)
        channels, height, width = z.shape
        pooled = z.reshape(channels, side, height // side, side, width // side).mean(axis=(2, 4))
        if header.get("mirrorAveraging"):
            pooled = (pooled + pooled[:, :, ::-1]) / 2
        p = pooled.reshape(-1)
        vectors.append(np.concatenate([layer / np.linalg.norm(layer), np.sqrt(weight) * p / np.linalg.norm(p)]))
    return vectors


def outputs_of(header, parameters, inputs):
    return layers_of(header, parameters, inputs)[1]


def main():
    with gzip.open(IMAGES) as f:
        raw = f.read()
    count, rows, cols = struct.unpack_from(">III", raw, 4)
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)
    result = {"images": IMAGES, "indices": INDICES, "models": []}
    for bits in (32, 64):
        header, parameters, digest = read_model(os.path.join(MODELS, "fashion-mnist-%d.bganmodel" % bits))
        scale = header["preprocessing"]["scale"]
        inputs = [images[i].astype(np.float64)[None, :, :] * scale for i in INDICES]
        outputs = outputs_of(header, parameters, inputs)
        result["models"].append({
            "bits": bits,
            "digest": digest,
            "mirrorAveraging": bool(header.get("mirrorAveraging", False)),
            "outputs": [[float(v) for v in h] for h in outputs],
            "codes": [code_hex(h) for h in outputs],
        })
    header, parameters, digest = read_model(os.path.join(MODELS, "photos-64.bganmodel"))
    scale = header["preprocessing"]["scale"]
    hidden, outputs = layers_of(header, parameters, [photo_image(images[i]).astype(np.float64) * scale for i in INDICES])
    result["photoModel"] = {
        "bits": header["architecture"]["bits"],
        "digest": digest,
        "mirrorAveraging": bool(header.get("mirrorAveraging", False)),
        "outputs": [[float(v) for v in h] for h in outputs],
        "codes": [code_hex(h) for h in outputs],
    }
    vectors = refinement_vectors(header, hidden, outputs, [photo_image(images[i]).astype(np.float64) * scale for i in INDICES])
    if vectors is not None:
        result["photoModel"]["refinementVectors"] = [[float(v) for v in x] for x in vectors]
    with open(os.path.join(ROOT, "Fixtures", "nn", "bundled-codes.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
