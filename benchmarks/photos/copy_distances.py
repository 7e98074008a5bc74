"""How far each copy's thumbnail lies from its original's, and from the nearest other original's,
as a store's near-tie break measures it (`ThumbnailSignature`: gray, area-resized to 64 x 64,
mean 0 and deviation 1, root-mean-square difference over all but the worst tenth of pixels, the
nearer of straight and mirrored). The ceiling under which a near-tie's nearest thumbnail counts as
a copy of the query (`Refinement.Options.defaultNearTieCopyDistance`) was read off these tables.

    python copy_distances.py DATA [--part validation|folder] [--side 64]

--part validation (the default) queries the training half's validation part (halves.py
--validation) and searches the whole training half, as `evaluate.py --validation
--fit-distractors` does; --part folder queries and searches every photo of DATA (the low-contrast
probe that flattened.py writes). Pillow's area resize stands in for the store's, so figures may
differ from the store's in the third decimal.
"""
import argparse
import os

import halves
import numpy as np
from PIL import Image

CEILINGS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.5]


def signature(path, side):
    """The thumbnail as the store makes it (fitted within 64 pixels), compared at `side` x `side`."""
    image = Image.open(path).convert("RGB")
    scale = 64 / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BOX)
    values = np.asarray(image.convert("L").resize((side, side), Image.BOX), dtype=np.float32)
    deviation = max(1.0, float(values.std()))
    return (values - values.mean()) / deviation


def trimmed_distance(squares):
    """Root mean square of each row of `squares` without its largest tenth."""
    kept = squares.shape[-1] - int(squares.shape[-1] * 0.1)
    return np.sqrt(np.partition(squares, kept - 1, axis=-1)[..., :kept].mean(axis=-1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--part", choices=["validation", "folder"], default="validation")
    parser.add_argument("--side", type=int, default=64)
    args = parser.parse_args()
    if args.part == "validation":
        fitting, queried = halves.validation_split(args.data)
        searched = sorted(fitting | queried)
    else:
        searched = sorted(name.split(".")[0] for name in os.listdir(os.path.join(args.data, "originals")))
        queried = set(searched)
    originals = [signature(os.path.join(args.data, "originals", photo + ".png"), args.side) for photo in searched]
    straight = np.stack([o.ravel() for o in originals])
    mirrored = np.stack([o[:, ::-1].ravel() for o in originals])
    position = {photo: i for i, photo in enumerate(searched)}
    rows = {}
    for name in sorted(os.listdir(os.path.join(args.data, "queries"))):
        photo, transform = name.split(".")[:2]
        if photo not in queried:
            continue
        query = signature(os.path.join(args.data, "queries", name), args.side).ravel()
        distances = np.minimum(trimmed_distance((straight - query) ** 2), trimmed_distance((mirrored - query) ** 2))
        own = distances[position[photo]]
        distances[position[photo]] = np.inf
        rows.setdefault(transform, []).append((own, distances.min()))
    print(f"{len(queried)} photos queried, {len(searched)} searched, thumbnails compared at {args.side} x {args.side}")
    print("| transform | copies | to its original: median / 90th / 99th percentile / largest | to the nearest other: smallest / 1st percentile / median |")
    print("|---|---|---|---|")
    for transform, pairs in sorted(rows.items()):
        a = np.array(pairs)
        own = " / ".join(f"{x:.3f}" for x in np.percentile(a[:, 0], [50, 90, 99, 100]))
        other = " / ".join(f"{x:.3f}" for x in [a[:, 1].min(), *np.percentile(a[:, 1], [1, 50])])
        print(f"| {transform} | {len(a)} | {own} | {other} |")
    print()
    print("| ceiling | " + " | ".join(sorted(rows)) + " | copies with another original within it |")
    print("|---|" + "---|" * (len(rows) + 1))
    for ceiling in CEILINGS:
        shares = " | ".join(f"{np.mean(np.array(rows[t])[:, 0] <= ceiling):.2f}" for t in sorted(rows))
        wrong = sum(int(np.sum(np.array(pairs)[:, 1] <= ceiling)) for pairs in rows.values())
        print(f"| {ceiling} | {shares} | {wrong} |")


if __name__ == "__main__":
    main()
