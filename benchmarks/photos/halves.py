"""The photo benchmark cut in two halves by source photograph: a model is trained without labels
on one half's originals and evaluated on the other. Tiles of one photograph share its light,
camera and subject, so no photograph straddles the halves.

    python halves.py DATA OUT     links (hard) the training half's originals into the folder OUT

The photographs (package, file), sorted, alternate: even positions train, odd ones evaluate.
"""
import csv
import os
import shutil
import sys


def link_or_copy(source, target):
    """A hard link (bgan-db does not follow symbolic links), or a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def halves(data):
    """(training photo ids, evaluation photo ids) from DATA/provenance.tsv."""
    with open(os.path.join(data, "provenance.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    sources = sorted({(row["package"], row["file"]) for row in rows})
    training_sources = set(sources[0::2])
    training = {row["photo"] for row in rows if (row["package"], row["file"]) in training_sources}
    evaluation = {row["photo"] for row in rows} - training
    return training, evaluation


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    data, out = sys.argv[1], sys.argv[2]
    training, evaluation = halves(data)
    os.makedirs(out, exist_ok=True)
    originals = os.path.join(data, "originals")
    for name in sorted(os.listdir(originals)):
        if name.split(".")[0] in training:
            target = os.path.join(out, name)
            if not os.path.lexists(target):
                link_or_copy(os.path.join(originals, name), target)
    print(f"{len(training)} training tiles linked into {out}; {len(evaluation)} tiles held out for evaluation", file=sys.stderr)


if __name__ == "__main__":
    main()
