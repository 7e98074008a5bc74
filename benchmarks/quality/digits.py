"""Assembles a second labelled image set, one no recipe was ever tuned on, as MNIST-style IDX files
for `bgan-db train` and `bgan-db eval`: the UCI "optical recognition of handwritten digits" test set
(1,797 digits by 13 writers, 10 classes; E. Alpaydin and C. Kaynak, 1998) as scikit-learn bundles it
in Debian's python3-sklearn (sklearn/datasets/data/digits.csv.gz: 8x8 images of 0..16, the number
of ink pixels in each 4x4 block of a 32x32 bitmap).

Each 8x8 digit is scaled to 0..255, resized to 20x20 (bilinear) and centred in 28x28 with a 4-pixel
black border, as MNIST centres its digits in a 20x20 box; ink is white on black, as in MNIST and
Fashion-MNIST. Every sixth digit (index % 6 == 5: 299) is a query, the other 1,498 the database.

    python digits.py OUT

writes OUT/digits-{train,test}-{images-idx3,labels-idx1}-ubyte.gz and OUT/provenance.txt, and
keeps the downloaded package under OUT/cache (Pillow: benchmarks/photos/.venv). Nothing here is
committed; results: docs/quality.md, "A second labelled data set".
"""
import gzip
import os
import shutil
import struct
import sys

from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "photos"))
from assemble import fetch  # noqa: E402  (the photo benchmark's: apt-get download, then dpkg-deb -x)

PACKAGE = "python3-sklearn"
DATA = "usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
DESCRIPTION = "usr/lib/python3/dist-packages/sklearn/datasets/descr/digits.rst"


def digits(root):
    """(28x28 bytes, label) of every digit, in the file's order."""
    with gzip.open(os.path.join(root, DATA), "rt") as rows:
        for row in rows:
            values = [int(v) for v in row.strip().split(",")]
            pixels, label = values[:64], values[64]
            small = Image.frombytes("L", (8, 8), bytes(round(v * 255 / 16) for v in pixels))
            canvas = Image.new("L", (28, 28), 0)
            canvas.paste(small.resize((20, 20), Image.BILINEAR), (4, 4))
            yield canvas.tobytes(), label


def write_idx(path, images, labels):
    with gzip.open(path + "-images-idx3-ubyte.gz", "wb") as out:
        out.write(struct.pack(">IIII", 0x803, len(images), 28, 28))
        for image in images:
            out.write(image)
    with gzip.open(path + "-labels-idx1-ubyte.gz", "wb") as out:
        out.write(struct.pack(">II", 0x801, len(labels)))
        out.write(bytes(labels))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    root, versions = fetch([PACKAGE], os.path.join(out, "cache"))
    version = versions[PACKAGE]
    rows = list(digits(root))
    database = [row for index, row in enumerate(rows) if index % 6 != 5]
    queries = [row for index, row in enumerate(rows) if index % 6 == 5]
    for name, part in [("train", database), ("test", queries)]:
        write_idx(os.path.join(out, f"digits-{name}"), [image for image, _ in part], [label for _, label in part])
    shutil.copy(os.path.join(root, DESCRIPTION), os.path.join(out, "digits.rst"))
    shutil.copy(os.path.join(root, "usr/share/doc", PACKAGE, "copyright"), os.path.join(out, f"{PACKAGE}.copyright"))
    with open(os.path.join(out, "provenance.txt"), "w") as note:
        note.write(f"{PACKAGE} {version}: {DATA}\n{len(database)} database digits, {len(queries)} queries\n"
                   f"licence: {PACKAGE}.copyright beside this file (scikit-learn: BSD-3-Clause); the data: "
                   "UCI Machine Learning Repository, CC BY 4.0 (digits.rst has the description and references)\n")
    print(f"{len(database)} database digits, {len(queries)} queries in {out}")


if __name__ == "__main__":
    main()
