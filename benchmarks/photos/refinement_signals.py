"""Which signal should order a store's refined candidates? First hits per transform when the same
exact Hamming candidates are ordered by each of several signals of one model.

    python refinement_signals.py DATA BGAN_DB MODEL [--validation | --held-out] [--floor 10]

The candidates are what a store takes for a `-k 1` search by image: the `--floor` nearest codes
of the originals and every code tied with the last (docs/evaluation.md, "Refinement"). They are
ordered by the cosine of:
- outputs, 8-bit: the model's real-valued outputs quantised as a store keeps them (the store's
  own answer, to check the rest against);
- outputs: the same at full precision;
- hidden layer: the model's hidden layer (`bgan-db encode --hidden-layer`);
- hidden layer, centred: the same less the originals' mean.
Equal scores go by Hamming distance, then by the original's order, as a store orders them.
Choose with --validation (the training half's validation part) or on a probe; --held-out is the
test half.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate  # noqa: E402
import halves  # noqa: E402


def encoded(bgan_db, model, folder, flag, key):
    """{file: vector} from `bgan-db encode --model MODEL FLAG --json FOLDER`."""
    out = subprocess.run([bgan_db, "encode", "--model", model, flag, "--json", folder], check=True, capture_output=True, text=True).stdout
    rows = (json.loads(line) for line in out.splitlines())
    return {row["input"]: np.array(row[key], dtype=np.float32) for row in rows}


def units(matrix):
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


def quantised(matrix):
    """One signed byte per value, the largest magnitude at 127, halves rounded away from zero as
    Swift's `rounded()` does (HammingSearch.Refinement.quantize)."""
    largest = np.abs(matrix).max(axis=-1, keepdims=True)
    scaled = matrix * (127 / np.maximum(largest, 1e-12))
    return np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -127, 127)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("bgan_db")
    parser.add_argument("model")
    cut = parser.add_mutually_exclusive_group()
    cut.add_argument("--validation", action="store_true")
    cut.add_argument("--held-out", action="store_true")
    parser.add_argument("--floor", type=int, default=10, help="candidates before ties (a store's minimumCandidates for k = 1)")
    args = parser.parse_args()

    folders = {part: os.path.join(args.data, part) for part in ("originals", "queries")}
    outputs = {p: v for f in folders.values() for p, v in encoded(args.bgan_db, args.model, f, "--real-valued", "h").items()}
    hidden = {p: v for f in folders.values() for p, v in encoded(args.bgan_db, args.model, f, "--hidden-layer", "hidden").items()}
    originals, queries = evaluate.files(folders["originals"]), evaluate.files(folders["queries"])
    if args.validation or args.held_out:
        _, searched = halves.halves(args.data) if args.held_out else halves.validation_split(args.data)
        originals = [p for p in originals if evaluate.photo_id(p) in searched]
        queries = [p for p in queries if evaluate.photo_id(p) in searched]

    stored_outputs = np.stack([outputs[p] for p in originals])
    stored_hidden = np.stack([hidden[p] for p in originals])
    mean_hidden = stored_hidden.mean(axis=0)
    signals = {
        "outputs, 8-bit": (units(quantised(stored_outputs)), lambda p: outputs[p]),
        "outputs": (units(stored_outputs), lambda p: outputs[p]),
        "hidden layer": (units(stored_hidden), lambda p: hidden[p]),
        "hidden layer, centred": (units(stored_hidden - mean_hidden), lambda p: hidden[p] - mean_hidden),
    }
    codes = stored_outputs > 0
    ids = [evaluate.photo_id(p) for p in originals]
    found = {}
    for query in queries:
        distances = (codes != (outputs[query] > 0)).sum(axis=1)
        reach = np.sort(distances)[min(args.floor, len(distances)) - 1]
        candidates = np.flatnonzero(distances <= reach)
        row = found.setdefault(os.path.basename(query).split(".")[1], {name: 0 for name in signals} | {"copies": 0})
        row["copies"] += 1
        for name, (stored, query_vector) in signals.items():
            scores = stored[candidates] @ units(query_vector(query))
            first = candidates[np.lexsort((candidates, distances[candidates], -scores))[0]]
            row[name] += ids[first] == evaluate.photo_id(query)

    print(f"{len(originals)} originals, {len(queries)} copies; candidates: the {args.floor} nearest codes and their ties")
    print("| transform | " + " | ".join(signals) + " |")
    print("|---|" + "---|" * len(signals))
    for transform, row in sorted(found.items()):
        print(f"| {transform} | " + " | ".join(f"{row[name] / row['copies']:.3f}" for name in signals) + " |")
    print(f"| mean of the {len(found)} | " + " | ".join(
        f"{np.mean([row[name] / row['copies'] for row in found.values()]):.4f}" for name in signals) + " |")


if __name__ == "__main__":
    main()
