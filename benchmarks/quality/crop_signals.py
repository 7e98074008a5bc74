"""Which real-valued signal finds a near-duplicate's original first among a 64-bit BGAN model's
nearest codes? The store refines by the code model's own outputs; this asks whether another
layer, or the contrastive stage-1 model a BGAN stage starts from (trained on cropped views),
would put a 10 % crop's original first more often. A diagnostic on the validation protocol:
database = the first 50,000 Fashion-MNIST training images, copies of 1,000 of them made as
shift_averaging.py (and `bgan-db eval`) makes them; candidates = the 40 nearest BGAN codes and
their ties (as a store refines a 10-result query), ordered by the cosine of each signal
(`bgan-db encode --real-valued` or `--hidden-layer`, mirror-averaged as the model says).

    python crop_signals.py BGAN_DB BGAN_MODEL STAGE1_MODEL [SCRATCH]

(NumPy and Pillow: benchmarks/photos/.venv; ~5 minutes.) Each cell: first among the
candidates (first among all 50,000 by that signal alone). Results: docs/quality.md.
"""
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shift_averaging as copies_of  # noqa: E402

CANDIDATES = 40


def encoded(bgan_db, model, images, path, layer):
    """One row per image of `layer` (`--real-valued` or `--hidden-layer`) of `model`."""
    with open(path, "wb") as f:
        f.write(np.array([0x00000803, len(images), 28, 28], dtype=">i4").tobytes())
        f.write(images.astype(np.uint8).tobytes())
    out = subprocess.run([bgan_db, "encode", "--model", model, layer, path], check=True, capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    # Each line ends with the input's name: every field before it is a value.
    return np.array([[float(v) for v in row[:-1]] for row in rows], dtype=np.float32)


def unit(values):
    return values / np.linalg.norm(values, axis=1, keepdims=True)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    bgan_db, bgan_model, stage1_model = sys.argv[1:4]
    scratch = sys.argv[4] if len(sys.argv) == 5 else tempfile.mkdtemp()
    os.makedirs(scratch, exist_ok=True)
    database = np.frombuffer(gzip.open(copies_of.IMAGES).read(), np.uint8, offset=16).reshape(60000, 28, 28)[:50000]
    originals = np.random.default_rng(2026).choice(50000, 1000, replace=False)
    noise = np.random.default_rng(7)
    copies = {
        "10 % crop": np.stack([copies_of.crop(database[i]) for i in originals]),
        "JPEG q50": np.stack([copies_of.jpeg(database[i]) for i in originals]),
        "noise σ 8": np.stack([np.clip(np.rint(database[i] + noise.normal(0, 8, (28, 28))), 0, 255).astype(np.uint8) for i in originals]),
        "1-px shift": copies_of.shifted(database[originals], 1, 0),
    }
    sets = {"database": database, **copies}
    signals = {
        "BGAN outputs (what stores keep)": (bgan_model, "--real-valued"),
        "BGAN hidden layer": (bgan_model, "--hidden-layer"),
        "stage 1 outputs": (stage1_model, "--real-valued"),
        "stage 1 hidden layer": (stage1_model, "--hidden-layer"),
    }
    values = {signal: {name: encoded(bgan_db, model, images, os.path.join(scratch, f"{i}.idx"), layer)
                       for i, (name, images) in enumerate(sets.items())}
              for signal, (model, layer) in signals.items()}
    codes = values["BGAN outputs (what stores keep)"]["database"] > 0
    print("| signal | " + " | ".join(copies) + " |")
    print("|---|" + "---|" * len(copies))
    for signal in signals:
        database_units = unit(values[signal]["database"])
        cells = []
        for name in copies:
            query_codes = values["BGAN outputs (what stores keep)"][name] > 0
            query_units = unit(values[signal][name])
            among_candidates = anywhere = 0
            for query, original in enumerate(originals):
                distances = (codes != query_codes[query]).sum(1)
                candidates = np.flatnonzero(distances <= np.sort(distances)[CANDIDATES - 1])
                among_candidates += candidates[np.argmax(database_units[candidates] @ query_units[query])] == original
                anywhere += np.argmax(database_units @ query_units[query]) == original
            cells.append(f"{among_candidates / len(originals):.3f} ({anywhere / len(originals):.3f})")
        print(f"| {signal} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
