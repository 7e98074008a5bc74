"""Camera-sized JPEGs cut from the photo benchmark's photographs, for ingest benchmarks.

    python camera_jpegs.py OUT [--count 2000] [--width 1632] [--height 1224] [--quality 90]
                           [--cache DIR] [--seed 2026]

Each file is a crop of one of the benchmark's photographs (assemble.SOURCES, fetched with
`apt-get download` into --cache as assemble.py does) at a random position and a random scale
between WIDTH x HEIGHT and the largest crop of that aspect the photograph holds, resized down to
WIDTH x HEIGHT (Lanczos) and saved as a baseline JPEG at QUALITY with 4:2:0 chroma, as cameras and
phones write them. Only photographs at least WIDTH x HEIGHT take part, so no file is upscaled:
the files keep a real photograph's detail, which is what JPEG entropy decoding pays for
(generated noisy files, as `bgan-bench ingest --jpegs` writes, are heavier). The default size
is 2 megapixels (1632 x 1224). Needs Pillow and NumPy (run.sh's virtual environment has both).
"""
import argparse
import os
import random
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from assemble import SOURCES, fetch, photographs  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--width", type=int, default=1632)
    parser.add_argument("--height", type=int, default=1224)
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--cache", default=None, help="where the downloaded packages go (default: OUT/cache)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    root, versions = fetch(SOURCES, args.cache or os.path.join(args.out, "cache"))
    photos = [photo for _, _, photo in photographs(SOURCES, root, versions) if photo.width >= args.width and photo.height >= args.height]
    if not photos:
        sys.exit(f"no photograph of the benchmark is at least {args.width}x{args.height}")
    rng = random.Random(args.seed)
    aspect = args.width / args.height
    folder = os.path.join(args.out, f"{args.width}x{args.height}")
    os.makedirs(folder, exist_ok=True)
    total = 0
    for index in range(args.count):
        photo = rng.choice(photos)
        largest = min(photo.width, photo.height * aspect)
        crop_width = rng.uniform(args.width, largest)
        crop_height = crop_width / aspect
        left = rng.uniform(0, photo.width - crop_width)
        top = rng.uniform(0, photo.height - crop_height)
        image = photo.resize((args.width, args.height), Image.LANCZOS, box=(left, top, left + crop_width, top + crop_height))
        path = os.path.join(folder, f"{index:05d}.jpg")
        image.save(path, quality=args.quality, subsampling="4:2:0")
        total += os.path.getsize(path)
    print(f"{args.count} JPEGs of {args.width}x{args.height} from {len(photos)} photographs in {folder}, "
          f"{total / args.count / 1024:.0f} KB each on average")


if __name__ == "__main__":
    main()
