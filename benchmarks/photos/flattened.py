"""A low-contrast copy of part of the photo benchmark: each original's contrast lowered until its
gray standard deviation is between 8 and 16 levels of 255 (a pale wall, a blurred background,
an overcast sky: the flattest tiles assemble.py keeps), then the benchmark's 14 transforms made
from that, as assemble.py makes them.

    python flattened.py DATA OUT [--part validation|held-out] [--seed 2026]

DATA is what assemble.py wrote; OUT gets originals/ and queries/ as assemble.py lays them out,
so `evaluate.py OUT BGAN_DB --model NAME=FILE` searches all of OUT's originals. The default part,
the training half's validation part (halves.py --validation), lets settings be chosen on flat
photos without the held-out half; a model trained on the fitting part has seen none of them.
Why: a photo turned in place gets black corners, and an encoder that standardises each image
sees them as large outliers when the rest of the photo is nearly flat (docs/photos.md).
"""
import argparse
import os
import random
import shutil

import assemble
import halves
import numpy as np
from PIL import Image, ImageEnhance

FLATTEST, STEEPEST = 8.0, 16.0


def flattened(image, target):
    """`image` with its contrast scaled about its mean gray so that the gray standard deviation
    is `target` levels; images already that flat are returned as they are."""
    deviation = float(np.asarray(image.convert("L"), dtype=np.float32).std())
    if deviation <= target:
        return image
    return ImageEnhance.Contrast(image).enhance(target / deviation)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--part", choices=["validation", "held-out"], default="validation")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    _, chosen = halves.validation_split(args.data) if args.part == "validation" else halves.halves(args.data)
    for sub in ["originals", "queries"]:
        shutil.rmtree(os.path.join(args.out, sub), ignore_errors=True)
        os.makedirs(os.path.join(args.out, sub))
    rng = random.Random(args.seed)
    ids = sorted(chosen)
    for photo in ids:
        original = Image.open(os.path.join(args.data, "originals", f"{photo}.png")).convert("RGB")
        flat = flattened(original, rng.uniform(FLATTEST, STEEPEST))
        flat.save(os.path.join(args.out, "originals", f"{photo}.png"))
        assemble.save_copies(flat, photo, os.path.join(args.out, "queries"))
    print(f"{len(ids)} photos of the {args.part} part flattened to a gray deviation of {FLATTEST:g}-{STEEPEST:g} "
          f"and queried under {len(assemble.TRANSFORMS)} transforms -> {args.out}")


if __name__ == "__main__":
    main()
