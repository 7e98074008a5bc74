"""Runs the photo benchmark: every method hashes the originals and the transformed copies, and
each copy is searched against all originals.

    python evaluate.py DATA BGAN_DB [--json OUT.json] [--model NAME=FILE ...] [--held-out | --validation [--fit-distractors]]

DATA is what assemble.py wrote; BGAN_DB the bgan-db binary. Methods, side by side in one run:
  pdq (bgan-db)        PDQ as `bgan-db encode --encoder pdq` computes it (our implementation)
  pdq store (bgan-db)  a store made with `bgan-db create --encoder pdq`, queried by image with
                       `bgan-db query -k 1`: its own ranking (the exact Hamming candidates
                       re-ranked by the cosine of the PDQ margins)
  pdq store, mirrors matched   the same with `--match-mirror-images` (each copy and its mirror
                       image searched, every photo ranked by the nearer of the two)
  bgan-64 (bgan-db)    the bundled 64-bit BGAN model's codes (trained on Fashion-MNIST, 28x28 gray)
  bgan-64 store        a store bound to it (`bgan-db create --bits 64`), queried as the PDQ store:
                       its own first hit, the exact Hamming candidates re-ranked by refinement vectors
  NAME (bgan-db)       each --model NAME=FILE: a model file's codes (`bgan-db encode --model`)
  NAME store           a store bound to that model file (`bgan-db create --model FILE`), its first hit
  NAME store, tie band the same store queried with `--refine-tie-band E --refine-copy-distance D`
                       (--tie-band, default 0.1, 0 leaves the column out; --copy-distance, default
                       0.1, `any` for none): a near-tie of the refined order goes to the candidate
                       whose stored thumbnail is nearest the query's, if within D
  pdqhash              Meta's reference PDQ (PyPI pdqhash) on the pixels Pillow decodes
  phash, dhash, whash  imagehash's 64-bit hashes
Figures per transform: recall@1 (tie-aware: a copy whose original ties with t others at the
smallest distance counts 1/(t+1)); recall and precision within a threshold (PDQ 31 of 256 bits,
Meta's match threshold; 8 of 64 for the 64-bit hashes, the same fraction).
With --held-out only the evaluation half (halves.py) is searched and queried: the half a model
trained with `halves.py`'s training half has never seen; measure it once per final recipe. With
--validation only the training half's validation part (`halves.py --validation`), for models
trained on its fitting part: choose settings there. --fit-distractors makes that harder: the
fitting part's originals join the searched ones (the whole training half, 812 photos; copies of
the validation part's alone are queried), so a copy must beat its original's siblings from 16
photographs instead of 8.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import halves
import imagehash
import numpy as np
import pdqhash
from PIL import Image

THRESHOLDS = {256: 31, 64: 8}


def files(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


def photo_id(path):
    return os.path.basename(path).split(".")[0]


def bits_of_hex(text):
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))


def bgan_db_codes(bgan_db, arguments, folder):
    """{file: bits} from `bgan-db encode ARGUMENTS --json FOLDER`."""
    out = subprocess.run([bgan_db, "encode", *arguments, "--json", folder], check=True, capture_output=True, text=True).stdout
    codes = {}
    for line in out.splitlines():
        row = json.loads(line)
        codes[row["input"]] = bits_of_hex(row["code"])
    return codes


def peer_codes(paths):
    """{method: {file: bits}} for pdqhash and imagehash's three hashes."""
    result = {"pdqhash": {}, "phash": {}, "dhash": {}, "whash": {}}
    for path in paths:
        image = Image.open(path).convert("RGB")
        vector, _ = pdqhash.compute(np.asarray(image))
        result["pdqhash"][path] = vector.astype(np.uint8)
        result["phash"][path] = imagehash.phash(image).hash.flatten().astype(np.uint8)
        result["dhash"][path] = imagehash.dhash(image).hash.flatten().astype(np.uint8)
        result["whash"][path] = imagehash.whash(image).hash.flatten().astype(np.uint8)
    return result


def hamming(queries, database):
    q = queries.astype(np.float32)
    d = database.astype(np.float32)
    return (q @ (1 - d).T + (1 - q) @ d.T).round().astype(np.int32)


def score(codes, originals, queries):
    """Per transform: tie-aware recall@1, recall and precision within the threshold."""
    database = np.stack([codes[p] for p in originals])
    ids = [photo_id(p) for p in originals]
    position = {photo_id: i for i, photo_id in enumerate(ids)}
    bits = database.shape[1]
    threshold = THRESHOLDS[bits]
    distances = hamming(np.stack([codes[p] for p in queries]), database)
    per = {}
    for row, path in enumerate(queries):
        name = os.path.basename(path).split(".")[1]
        d = distances[row]
        true = d[position[photo_id(path)]]
        recall1 = (1.0 / np.count_nonzero(d == true)) if np.count_nonzero(d < true) == 0 else 0.0
        within = np.count_nonzero(d <= threshold)
        entry = per.setdefault(name, {"recall@1": 0.0, "found": 0, "returned": 0, "queries": 0})
        entry["recall@1"] += recall1
        entry["found"] += int(true <= threshold)
        entry["returned"] += int(within)
        entry["queries"] += 1
    return {name: {"recall@1": e["recall@1"] / e["queries"],
                   "recall@threshold": e["found"] / e["queries"],
                   "precision@threshold": e["found"] / e["returned"] if e["returned"] else 1.0,
                   "threshold": threshold, "queries": e["queries"]} for name, e in per.items()}


def linked(paths, folder):
    """A folder of hard links to `paths` (bgan-db takes folders and follows no symbolic link)."""
    os.makedirs(folder)
    for path in paths:
        halves.link_or_copy(path, os.path.join(folder, os.path.basename(path)))
    return folder


def store_top_hits(bgan_db, originals, queries, encoder, query_options, thumbnails=False):
    """Per transform and per entry of `query_options`: the share of copies whose first hit from
    a store made with `bgan-db create ENCODER` is their original. The store's own ranking: the
    exact Hamming candidates re-ranked by its refinement vectors, as a user querying by image sees.
    The store keeps thumbnails (the default 64 pixels) only if `thumbnails`: a near-tie band needs them."""
    with tempfile.TemporaryDirectory() as scratch:
        store = os.path.join(scratch, "photos")
        subprocess.run([bgan_db, "create", store, *encoder, *([] if thumbnails else ["--thumbnail-size", "0"])],
                       check=True, capture_output=True)
        subprocess.run([bgan_db, "ingest", store, linked(originals, os.path.join(scratch, "originals"))], check=True, capture_output=True)
        folder = linked(queries, os.path.join(scratch, "queries"))
        return [first_hits(subprocess.run([bgan_db, "query", store, folder, "-k", "1", "--json", *options],
                                          check=True, capture_output=True, text=True).stdout)
                for options in query_options]


def first_hits(out):
    """recall@1 per transform from `bgan-db query --json` lines."""
    per = {}
    for line in out.splitlines():
        row = json.loads(line)
        if "image" not in row:
            continue
        name = os.path.basename(row["image"]).split(".")[1]
        hit = row["hits"][0]["key"] if row["hits"] else ""
        entry = per.setdefault(name, [0, 0])
        entry[0] += int(photo_id(hit) == photo_id(row["image"]))
        entry[1] += 1
    return {name: {"recall@1": found / count, "queries": count} for name, (found, count) in per.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("bgan_db")
    parser.add_argument("--json")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FILE",
                        help="also a model file's codes, named NAME in the tables")
    cut = parser.add_mutually_exclusive_group()
    cut.add_argument("--held-out", action="store_true", help="only the evaluation half (halves.py)")
    cut.add_argument("--validation", action="store_true", help="only the training half's validation part (halves.py --validation)")
    parser.add_argument("--tie-band", type=float, default=0.1,
                        help="each model's store also queried with --refine-tie-band this (0: not)")
    parser.add_argument("--copy-distance", default="0.1",
                        help="... and with --refine-copy-distance this (a distance, or any)")
    parser.add_argument("--fit-distractors", action="store_true",
                        help="with --validation: search the whole training half, query the validation part's copies")
    args = parser.parse_args()
    if args.fit_distractors and not args.validation:
        parser.error("--fit-distractors adds the fitting part to the validation part's search: give --validation too")
    originals_folder = os.path.join(args.data, "originals")
    queries_folder = os.path.join(args.data, "queries")
    originals, queries = files(originals_folder), files(queries_folder)
    if args.held_out or args.validation:
        fitting, searched = halves.halves(args.data) if args.held_out else halves.validation_split(args.data)
        queries = [p for p in queries if photo_id(p) in searched]
        if args.fit_distractors:
            searched = searched | fitting
        originals = [p for p in originals if photo_id(p) in searched]
    part = " (the held-out half)" if args.held_out else " (the validation part of the training half)" if args.validation else ""
    part += ", the fitting part's originals searched too" if args.fit_distractors else ""
    print(f"{len(originals)} photos, {len(queries)} transformed copies{part}", file=sys.stderr)

    methods = {}
    def codes_of_all(arguments):
        return {**bgan_db_codes(args.bgan_db, arguments, originals_folder), **bgan_db_codes(args.bgan_db, arguments, queries_folder)}

    ours_pdq = codes_of_all(["--encoder", "pdq"])
    methods["pdq (bgan-db)"] = ours_pdq
    methods["bgan-64 (bgan-db)"] = codes_of_all(["--bits", "64"])
    models = [argument.split("=", 1) for argument in args.model]
    for name, path in models:
        methods[f"{name} (bgan-db)"] = codes_of_all(["--model", path])
    methods.update(peer_codes(originals + queries))

    # Our PDQ against the reference, on the same decoded pixels (the originals are PNGs).
    differing = [int(np.count_nonzero(ours_pdq[p] != methods["pdqhash"][p])) for p in originals]
    agreement = {"photos": len(differing), "identical": sum(1 for d in differing if d == 0), "max_bits_apart": max(differing)}
    print(f"PDQ against pdqhash on the originals: {agreement['identical']} of {agreement['photos']} identical, "
          f"at most {agreement['max_bits_apart']} bits apart", file=sys.stderr)

    results = {name: score(codes, originals, queries) for name, codes in methods.items()}
    results["pdq store (bgan-db)"], results["pdq store, mirrors matched"] = store_top_hits(
        args.bgan_db, originals, queries, ["--encoder", "pdq"], [[], ["--match-mirror-images"]])
    results["bgan-64 store"], = store_top_hits(args.bgan_db, originals, queries, ["--bits", "64"], [[]])
    banded = [["--refine-tie-band", str(args.tie_band), "--refine-copy-distance", args.copy_distance]] if args.tie_band > 0 else []
    for name, path in models:
        answers = store_top_hits(args.bgan_db, originals, queries, ["--model", path], [[]] + banded, thumbnails=bool(banded))
        results[f"{name} store"] = answers[0]
        if banded:
            results[f"{name} store, tie band"] = answers[1]
    order = ["pdq store (bgan-db)", "pdq store, mirrors matched", "pdq (bgan-db)", "pdqhash", "phash", "dhash", "whash",
             "bgan-64 store", "bgan-64 (bgan-db)"]
    for name, _ in models:
        order += [f"{name} store"] + ([f"{name} store, tie band"] if banded else []) + [f"{name} (bgan-db)"]
    transforms = list(results["pdqhash"].keys())

    print("recall@1 (tie-aware; the store columns: their first hit)")
    print("| transform | " + " | ".join(order) + " |")
    print("|---|" + "---|" * len(order))
    for t in transforms:
        print(f"| {t} | " + " | ".join(f"{results[m][t]['recall@1']:.3f}" for m in order) + " |")
    # The figure the photo model's recipes were chosen by (docs/photos.md): every transform weighs the same.
    print(f"| mean of the {len(transforms)} | " + " | ".join(
        f"{sum(results[m][t]['recall@1'] for t in transforms) / len(transforms):.3f}" for m in order) + " |")
    print()
    print("recall / precision within the threshold (PDQ <= 31 of 256 bits; 64-bit hashes <= 8)")
    within = [m for m in order if m in methods]
    print("| transform | " + " | ".join(within) + " |")
    print("|---|" + "---|" * len(within))
    for t in transforms:
        print(f"| {t} | " + " | ".join(f"{results[m][t]['recall@threshold']:.2f} / {results[m][t]['precision@threshold']:.2f}" for m in within) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"photos": len(originals), "copies": len(queries), "pdq_agreement": agreement, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
