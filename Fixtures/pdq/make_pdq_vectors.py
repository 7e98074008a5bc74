"""Reference PDQ hashes for PerceptualHashTests, from Meta's implementation (PyPI `pdqhash`,
which wraps the C++ reference). Writes small test images and `pdq-vectors.json`.

    python3 -m venv /tmp/pdq && /tmp/pdq/bin/pip install pdqhash numpy pillow
    /tmp/pdq/bin/python Fixtures/pdq/make_pdq_vectors.py

The images are synthetic (gradients, discs, noise at several sizes and aspect ratios), so no
photograph is needed in the repository.
"""
import json
import os

import numpy as np
import pdqhash
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)


def scene(height, width, seed):
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.zeros((height, width, 3))
    for c in range(3):
        img[..., c] = 128 + 60 * np.sin(x / (7 + 5 * c + seed) + y / 23) + 40 * np.cos(y / (11 + seed))
    for _ in range(6):
        cy, cx, rad = r.integers(0, height), r.integers(0, width), r.integers(5, max(6, min(height, width) // 3))
        img[(y - cy) ** 2 + (x - cx) ** 2 < rad ** 2] = r.integers(0, 256, 3)
    img += r.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


vectors = []
for name, (h, w, seed) in {"scene-200x300.png": (200, 300, 1), "scene-64x64.png": (64, 64, 2),
                           "scene-97x211.png": (97, 211, 3), "scene-257x385.png": (257, 385, 4),
                           "scene-31x40.png": (31, 40, 5)}.items():
    Image.fromarray(scene(h, w, seed)).save(os.path.join(here, name), optimize=True)
# (The 8×6 fixtures of Fixtures/images are left out: blown up to 64×64 they are blocks whose DCT
# has many coefficients at the median, where float rounding alone decides the bit.)
for name in sorted(os.listdir(here)):
    path = os.path.join(here, name)
    if not name.endswith((".png", ".ppm", ".pgm")) or not os.path.exists(path):
        continue
    rgb = np.asarray(Image.open(path).convert("RGB"))
    hash_bits, quality = pdqhash.compute(rgb)
    # pdqhash lists the reference's bits last first (its element k is bit 255 - k); the reference
    # keeps bit i in bit i % 16 of 16-bit word i / 16 and prints the words 15…0 as hex.
    reference_bits = [int(hash_bits[255 - i]) for i in range(256)]
    words = [sum(reference_bits[16 * w + b] << b for b in range(16)) for w in range(16)]
    vectors.append({"file": name, "hex": "".join("%04x" % words[w] for w in reversed(range(16))), "quality": int(quality)})

with open(os.path.join(here, "pdq-vectors.json"), "w") as f:
    json.dump(vectors, f, indent=1)
print("\n".join("%s %s %d" % (v["file"], v["hex"], v["quality"]) for v in vectors))
