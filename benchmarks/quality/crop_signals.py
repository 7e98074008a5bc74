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
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shift_averaging as copies_of  # noqa: E402

CANDIDATES = 40


def unit(values):
    return values / np.linalg.norm(values, axis=1, keepdims=True)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    bgan_db, bgan_model, stage1_model = sys.argv[1:4]
    scratch = sys.argv[4] if len(sys.argv) == 5 else tempfile.mkdtemp()
    os.makedirs(scratch, exist_ok=True)
    database, originals, copies = copies_of.database_and_copies()
    sets = {"database": database, **copies}
    signals = {
        "BGAN outputs (what stores keep)": (bgan_model, "--real-valued"),
        "BGAN hidden layer": (bgan_model, "--hidden-layer"),
        "stage 1 outputs": (stage1_model, "--real-valued"),
        "stage 1 hidden layer": (stage1_model, "--hidden-layer"),
    }
    values = {signal: {name: copies_of.outputs(bgan_db, model, images, os.path.join(scratch, f"{i}.idx"), layer)
                       for i, (name, images) in enumerate(sets.items())}
              for signal, (model, layer) in signals.items()}
    codes = values["BGAN outputs (what stores keep)"]["database"] > 0
    # The candidates are the codes' and the same for every signal: found once per copy.
    candidates = {}
    for name in copies:
        query_codes = values["BGAN outputs (what stores keep)"][name] > 0
        candidates[name] = []
        for query in range(len(originals)):
            distances = (codes != query_codes[query]).sum(1)
            candidates[name].append(np.flatnonzero(distances <= np.sort(distances)[CANDIDATES - 1]))
    print("| signal | " + " | ".join(copies) + " |")
    print("|---|" + "---|" * len(copies))
    for signal in signals:
        database_units = unit(values[signal]["database"])
        cells = []
        for name in copies:
            query_units = unit(values[signal][name])
            among_candidates = anywhere = 0
            for query, original in enumerate(originals):
                found = candidates[name][query]
                among_candidates += found[np.argmax(database_units[found] @ query_units[query])] == original
                anywhere += np.argmax(database_units @ query_units[query]) == original
            cells.append(f"{among_candidates / len(originals):.3f} ({anywhere / len(originals):.3f})")
        print(f"| {signal} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
