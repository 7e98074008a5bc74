"""Would searching with rotated copies of the query lift PDQ on rotated and cropped photographs?

    python rotated_queries.py DATA [TRANSFORM ...]      (default: rotate3 crop10)

Each query of DATA/queries (TRANSFORM copies of the originals) is hashed with Meta's `pdqhash`
as it is and turned by each angle of a grid (PIL, bilinear, the canvas kept, as assemble.py makes
`rotate3`); its distance to an original is the least over the grid. Prints recall@1, strict (the
original alone nearest: a tie counts as a miss, where evaluate.py counts a tie among t others as
1/(t+1)), and the share of queries with a wrong original within PDQ's threshold of 31 bits, per
grid. Query-side variants are how mirror images are matched (`--match-mirror-images`). Expects a
set assembled with a query of every original (assemble.py's default).
"""
import os
import sys

import numpy as np
import pdqhash
from PIL import Image

GRIDS = {
    "as it is": [0],
    "±3°": [0, -3, 3],
    "±2°, ±4°": [0, -2, 2, -4, 4],
    "±1.5°, ±3°, ±4.5°": [0, -1.5, 1.5, -3, 3, -4.5, 4.5],
}


def bits(image):
    vector, _ = pdqhash.compute(np.asarray(image.convert("RGB")))
    return vector.astype(np.int16)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data, transforms = sys.argv[1], sys.argv[2:] or ["rotate3", "crop10"]
    names = sorted(os.listdir(os.path.join(data, "originals")))
    originals = np.stack([bits(Image.open(os.path.join(data, "originals", name))) for name in names])
    for transform in transforms:
        found = {grid: 0 for grid in GRIDS}
        wrongly_matched = {grid: 0 for grid in GRIDS}
        for index, name in enumerate(names):
            query = Image.open(os.path.join(data, "queries", f"{name[:-4]}.{transform}.png"))
            distances_at = {}
            for grid, angles in GRIDS.items():
                distances = np.full(len(names), 1 << 30)
                for angle in angles:
                    if angle not in distances_at:
                        turned = query.rotate(angle, resample=Image.BILINEAR) if angle else query
                        distances_at[angle] = (originals != bits(turned)).sum(axis=1)
                    distances = np.minimum(distances, distances_at[angle])
                nearest = distances.min()
                found[grid] += int(distances[index] == nearest and (distances == nearest).sum() == 1)
                wrongly_matched[grid] += int(np.delete(distances, index).min() <= 31)
        for grid in GRIDS:
            print(f"{transform:8} {grid:20} recall@1 {found[grid] / len(names):.3f}   "
                  f"a wrong original within 31 bits {wrongly_matched[grid] / len(names):.3f}")


if __name__ == "__main__":
    main()
