"""The photo benchmark cut in two halves by source photograph: a model is trained without labels
on one half's originals and evaluated on the other. Tiles of one photograph share its light,
camera and subject, so no photograph straddles the halves.

    python halves.py DATA OUT                links (hard) the training half's originals into the folder OUT
    python halves.py DATA OUT --validation   links the training half's fitting part instead

The photographs (package, file), sorted, alternate: even positions train, odd ones evaluate.
Settings are chosen without the evaluation half: the training half's photographs alternate once
more, even positions fit a model and odd ones validate it (`evaluate.py --validation`), and the
evaluation half is measured once per final recipe (`evaluate.py --held-out`).
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


def provenance(data):
    with open(os.path.join(data, "provenance.tsv")) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def split(rows, sources):
    """(photo ids whose source photograph sits at an even position of `sources`, the others')."""
    even, every = set(sources[0::2]), set(sources)
    first = {row["photo"] for row in rows if (row["package"], row["file"]) in even}
    return first, {row["photo"] for row in rows if (row["package"], row["file"]) in every} - first


def halves(data):
    """(training photo ids, evaluation photo ids) from DATA/provenance.tsv."""
    rows = provenance(data)
    return split(rows, sorted({(row["package"], row["file"]) for row in rows}))


def validation_split(data):
    """(fitting photo ids, validation photo ids): the training half cut again by source photograph."""
    rows = provenance(data)
    training_sources = sorted({(row["package"], row["file"]) for row in rows})[0::2]
    return split(rows, training_sources)


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--validation"):
        sys.exit(__doc__)
    data, out = sys.argv[1], sys.argv[2]
    training, evaluation = validation_split(data) if len(sys.argv) == 4 else halves(data)
    os.makedirs(out, exist_ok=True)
    originals = os.path.join(data, "originals")
    for name in sorted(os.listdir(originals)):
        if name.split(".")[0] in training:
            target = os.path.join(out, name)
            if not os.path.lexists(target):
                link_or_copy(os.path.join(originals, name), target)
    held = "for validation" if len(sys.argv) == 4 else "for evaluation"
    print(f"{len(training)} training tiles linked into {out}; {len(evaluation)} tiles held out {held}", file=sys.stderr)


if __name__ == "__main__":
    main()
