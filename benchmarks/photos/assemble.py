"""Assembles the photo benchmark from photographs that Debian packages carry.

    python assemble.py OUT [--photographs benchmark|unseen] [--tile 256] [--queries N] [--seed 2026]

Downloads the packages listed in SOURCES (or, with --photographs unseen, UNSEEN_SOURCES) with
`apt-get download` (nothing is installed), takes the photographs named there, cuts each into
non-overlapping TILE x TILE tiles (a tile is one benchmark photo: distinct content, the same
camera), drops nearly flat tiles (gray standard deviation below 8: sky, blur) and writes
    OUT/originals/NNNN.png              the database, lossless
    OUT/queries/NNNN.TRANSFORM.(png|jpg) transformed copies of every original (or of N chosen at
                                        random with --queries N)
    OUT/provenance.tsv                  tile -> package, version, file, box
    OUT/licences/PACKAGE.copyright      each package's Debian copyright file
Needs Pillow and NumPy (run.sh installs them into a private virtual environment).
"""
import argparse
import glob
import os
import random
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

# Package -> photographs in it (paths inside the package, glob patterns). Only photographs:
# the packages' renders, illustrations and gradients are left out.
SOURCES = {
    "plasma-workspace-wallpapers": [
        f"usr/share/wallpapers/{name}/contents/images/{size}.jpg"
        for name, size in [("Autumn", "2560x1600"), ("BytheWater", "2560x1600"), ("ColdRipple", "2560x1600"),
                           ("ColorfulCups", "2560x1600"), ("DarkestHour", "2560x1600"), ("EveningGlow", "2560x1600"),
                           ("FallenLeaf", "2560x1600"), ("Grey", "2560x1600"), ("Kite", "2560x1600"),
                           ("OneStandsOut", "2560x1600"), ("PastelHills", "3200x2000"), ("Path", "2560x1600"),
                           ("summer_1am", "2560x1600")]
    ],
    "mate-backgrounds": [
        f"usr/share/backgrounds/mate/nature/{name}.jpg"
        for name in ["Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops",
                     "Storm", "TwoWings", "Wood", "YellowFlower"]
    ] + ["usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg"],
    "python3-skimage": [
        f"usr/lib/python3/dist-packages/skimage/data/{name}"
        for name in ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "hubble_deep_field.jpg"]
    ],
}

# A second set, never used to train or choose anything: photographs by other photographers of other
# subjects (rooms, animals, people's things, mountains), standing in for "photos kept outside this
# repository". They are larger than the benchmark's wallpapers, so each is first brought to
# UNSEEN_LONGEST_SIDE pixels on its longer side (the wallpapers' 2560) so a tile covers as much of
# a scene as a benchmark tile does. Renders and illustrations in these packages are left out.
UNSEEN_SOURCES = {
    "lomiri-wallpapers-16.04": [
        f"usr/share/backgrounds/{name}_by_{author}.jpg"
        for name, author in [("Picture_1A", "freespace"), ("Picture_0B", "freespace"), ("Wine", "Jakkub_Mede"),
                             ("greentock", "Peter_Nerlich"), ("free", "Peter_Nerlich"),
                             ("analogpattern", "Peter_Nerlich"), ("seeding", "Clements_Engelhardt"),
                             ("aitzgorri", "Aitzol_Berasategi"), ("friends", "Aitzol_Berasategi"),
                             ("sunset", "Aitzol_Berasategi"), ("picosdeeuropa", "Aitzol_Berasategi"),
                             ("life", "Aitzol_Berasategi"), ("Dragonfly", "Bolly"), ("Bridge", "Sander_Klootwijk")]
    ],
    "lomiri-wallpapers-20.04": ["usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"],
}
UNSEEN_LONGEST_SIDE = 2560

TRANSFORMS = ["jpeg30", "jpeg50", "jpeg90", "half", "quarter", "crop10", "crop25", "brighter", "darker",
              "morecontrast", "lesscontrast", "rotate3", "text", "mirror"]


def transform(image, name):
    """The transformed copy, and the format to save it in."""
    w, h = image.size
    if name.startswith("jpeg"):
        return image, ("JPEG", int(name[4:]))
    if name == "half":
        return image.resize((w // 2, h // 2), Image.LANCZOS), None
    if name == "quarter":
        return image.resize((w // 4, h // 4), Image.LANCZOS), None
    if name.startswith("crop"):
        # "10 % crop": the central part whose sides are 90 % of the original's (5 % off each edge).
        keep = 1 - int(name[4:]) / 100
        cw, ch = round(w * keep), round(h * keep)
        left, top = (w - cw) // 2, (h - ch) // 2
        return image.crop((left, top, left + cw, top + ch)), None
    if name == "brighter":
        return ImageEnhance.Brightness(image).enhance(1.2), None
    if name == "darker":
        return ImageEnhance.Brightness(image).enhance(0.8), None
    if name == "morecontrast":
        return ImageEnhance.Contrast(image).enhance(1.2), None
    if name == "lesscontrast":
        return ImageEnhance.Contrast(image).enhance(0.8), None
    if name == "rotate3":
        return image.rotate(3, resample=Image.BILINEAR), None
    if name == "text":
        copy = image.copy()
        draw = ImageDraw.Draw(copy)
        font = ImageFont.load_default(size=max(12, h // 10))
        draw.text((w // 20, h * 7 // 10), "© BGANStore 2026", fill=(255, 255, 255), font=font,
                  stroke_width=max(1, h // 160), stroke_fill=(0, 0, 0))
        return copy, None
    if name == "mirror":
        return ImageOps.mirror(image), None
    raise ValueError(name)


def save_copies(image, photo, folder):
    """Writes the copy of `image` under each transform to `folder` as PHOTO.TRANSFORM.(jpg|png)."""
    for name in TRANSFORMS:
        copy, saving = transform(image, name)
        if saving:
            copy.save(os.path.join(folder, f"{photo}.{name}.jpg"), saving[0], quality=saving[1])
        else:
            copy.save(os.path.join(folder, f"{photo}.{name}.png"))


def fetch(packages, cache):
    """Downloads and unpacks the packages into cache/root; returns {package: version}."""
    debs = os.path.join(cache, "debs")
    root = os.path.join(cache, "root")
    os.makedirs(debs, exist_ok=True)
    versions = {}
    for package in packages:
        found = glob.glob(os.path.join(debs, f"{package}_*.deb"))
        if not found:
            fetched = subprocess.run(["apt-get", "download", package], cwd=debs, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
            if fetched.returncode != 0:
                sys.exit(f"apt-get download {package} failed: {fetched.stderr.strip()}\n"
                         "A fresh machine's package lists are often empty: run `sudo apt-get update` and try again.")
            found = glob.glob(os.path.join(debs, f"{package}_*.deb"))
        deb = found[0]
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        versions[package] = os.path.basename(deb).split("_")[1].replace("%3a", ":")
    return root, versions


def photographs(sources, root, versions, longest_side=0):
    """(package, pattern, RGB image) of every photograph `sources` names, from the unpacked
    packages under `root`, upright by its EXIF orientation and, with `longest_side`, shrunk to at
    most that many pixels on its longer side; exits naming the first one a package version lacks."""
    for package, patterns in sources.items():
        for pattern in patterns:
            paths = glob.glob(os.path.join(root, pattern))
            if not paths:
                sys.exit(f"{pattern} is not in {package} {versions[package]}")
            photo = ImageOps.exif_transpose(Image.open(paths[0])).convert("RGB")
            if longest_side and max(photo.size) > longest_side:
                scale = longest_side / max(photo.size)
                photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.LANCZOS)
            yield package, pattern, photo


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--photographs", choices=["benchmark", "unseen"], default="benchmark",
                        help="the benchmark's photographs, or the unseen set that nothing is trained or tuned on")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--queries", type=int, default=0, help="originals to copy and query (0: all)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    sources, longest_side = (SOURCES, 0) if args.photographs == "benchmark" else (UNSEEN_SOURCES, UNSEEN_LONGEST_SIDE)
    cache = os.path.join(args.out, "cache")
    root, versions = fetch(sources, cache)
    for sub in ["originals", "queries", "licences"]:
        shutil.rmtree(os.path.join(args.out, sub), ignore_errors=True)
        os.makedirs(os.path.join(args.out, sub))
    for package in sources:
        shutil.copy(os.path.join(root, "usr/share/doc", package, "copyright"),
                    os.path.join(args.out, "licences", package + ".copyright"))
    rows = []
    t = args.tile
    for package, pattern, photo in photographs(sources, root, versions, longest_side):
        w, h = photo.size
        for top in range(0, h - t + 1, t):
            for left in range(0, w - t + 1, t):
                tile = photo.crop((left, top, left + t, top + t))
                if np.asarray(tile.convert("L"), dtype=np.float32).std() < 8:
                    continue
                rows.append((tile, package, versions[package], pattern, (left, top, t, t)))
    with open(os.path.join(args.out, "provenance.tsv"), "w") as f:
        f.write("photo\tpackage\tversion\tfile\tleft\ttop\twidth\theight\n")
        for index, (tile, package, version, path, box) in enumerate(rows):
            tile.save(os.path.join(args.out, "originals", f"{index:04d}.png"))
            f.write(f"{index:04d}\t{package}\t{version}\t{path}\t" + "\t".join(map(str, box)) + "\n")
    count = len(rows) if args.queries <= 0 else min(args.queries, len(rows))
    chosen = sorted(random.Random(args.seed).sample(range(len(rows)), count))
    for index in chosen:
        save_copies(rows[index][0], f"{index:04d}", os.path.join(args.out, "queries"))
    print(f"{len(rows)} photos from {sum(len(p) for p in sources.values())} photographs in {len(sources)} packages; "
          f"{len(chosen)} queried under {len(TRANSFORMS)} transforms -> {args.out}")


if __name__ == "__main__":
    main()
