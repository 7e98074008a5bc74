"""Would averaging an encoder's outputs over 1-pixel shifts of its input (as mirror averaging
averages over the flip) keep near-duplicates — above all 10 % crops, an edit it is not built
for — among their originals' nearest codes? A diagnostic on the validation protocol: database =
the first 50,000 Fashion-MNIST training images, copies of 1,000 of them (seeded) made here as
`bgan-db eval` makes them (central 25×25 area-resized back, JPEG q50, Gaussian noise σ 8, a
1-pixel shift), every input also shifted by one pixel four ways (edges repeated) and encoded by
`bgan-db encode --real-valued`; codes are the signs of the mean over the shifts or of the
unshifted outputs alone.

    python shift_averaging.py BGAN_DB MODEL [SCRATCH]

(NumPy and Pillow: benchmarks/photos/.venv; ~2 minutes.) Recall@10 tie-aware; refined
recall@1 ranks the 40 nearest codes and their ties by full-precision cosine, as a store ranks a
10-result query. Results: docs/quality.md.
"""
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

IMAGES = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
OFFSETS = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]


def area_matrix(n_in, n_out):
    """Rows of weights that area-average n_in samples into n_out."""
    step = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for j in range(n_out):
        start, end = j * step, (j + 1) * step
        for i in range(int(start), min(n_in, int(np.ceil(end)))):
            weights[j, i] = max(0.0, min(end, i + 1) - max(start, i))
    return weights / weights.sum(1, keepdims=True)


AREA = area_matrix(25, 28)


def crop(image):
    return np.clip(np.floor(AREA @ image[1:26, 1:26].astype(np.float64) @ AREA.T + 0.5), 0, 255).astype(np.uint8)


def jpeg(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=50)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("L"))


def shifted(images, dx, dy):
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    return padded[:, 1 - dy:29 - dy, 1 - dx:29 - dx]


def outputs(bgan_db, model, images, path, layer="--real-valued"):
    """One row per image of `model`'s real-valued outputs (or, with `--hidden-layer`, hidden layer)."""
    with open(path, "wb") as f:
        f.write(np.array([0x00000803, len(images), 28, 28], dtype=">i4").tobytes())
        f.write(images.astype(np.uint8).tobytes())
    out = subprocess.run([bgan_db, "encode", "--model", model, layer, "--json", path], check=True, capture_output=True, text=True).stdout
    key = "hidden" if layer == "--hidden-layer" else "h"
    return np.array([json.loads(line)[key] for line in out.splitlines()], dtype=np.float32)


def database_and_copies():
    """The validation database (the first 50,000 training images), the 1,000 originals chosen
    from it, and their copies as `bgan-db eval` makes them, by edit."""
    raw = gzip.open(IMAGES).read()
    database = np.frombuffer(raw, np.uint8, offset=16).reshape(60000, 28, 28)[:50000]
    originals = np.random.default_rng(2026).choice(50000, 1000, replace=False)
    noise = np.random.default_rng(7)
    copies = {
        "10 % crop": np.stack([crop(database[i]) for i in originals]),
        "JPEG q50": np.stack([jpeg(database[i]) for i in originals]),
        "noise σ 8": np.stack([np.clip(np.rint(database[i] + noise.normal(0, 8, (28, 28))), 0, 255).astype(np.uint8) for i in originals]),
        "1-px shift": shifted(database[originals], 1, 0),
    }
    return database, originals, copies


def recall_at_10(database_codes, query_codes, originals):
    found = []
    for query, original in zip(query_codes, originals):
        distances = (database_codes != query).sum(1)
        closer, tied = (distances < distances[original]).sum(), (distances == distances[original]).sum()
        found.append(1.0 if closer + tied <= 10 else max(0.0, (10 - closer) / tied))
    return float(np.mean(found))


def refined_recall_at_1(database_values, query_values, originals):
    codes, units = database_values > 0, database_values / np.linalg.norm(database_values, axis=1, keepdims=True)
    hits = 0
    for values, original in zip(query_values, originals):
        distances = (codes != (values > 0)).sum(1)
        candidates = np.flatnonzero(distances <= np.sort(distances)[39])
        hits += candidates[np.argmax(units[candidates] @ (values / np.linalg.norm(values)))] == original
    return hits / len(originals)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    bgan_db, model = sys.argv[1], sys.argv[2]
    scratch = sys.argv[3] if len(sys.argv) == 4 else tempfile.mkdtemp()
    os.makedirs(scratch, exist_ok=True)
    database, originals, copies = database_and_copies()
    sets = {"database": database, **copies}
    values = {name: {offset: outputs(bgan_db, model, shifted(images, *offset), os.path.join(scratch, f"{i}-{j}.idx"))
                     for j, offset in enumerate(OFFSETS)} for i, (name, images) in enumerate(sets.items())}
    print("| averaged over | " + " | ".join(f"{name} r@10 / refined r@1" for name in copies) + " |")
    for label, used in [("the image alone", OFFSETS[:1]), ("the image and its four 1-px shifts", OFFSETS)]:
        database_values = np.mean([values["database"][o] for o in used], axis=0)
        cells = []
        for name in copies:
            query_values = np.mean([values[name][o] for o in used], axis=0)
            cells.append(f"{recall_at_10(database_values > 0, query_values > 0, originals):.3f} / {refined_recall_at_1(database_values, query_values, originals):.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
