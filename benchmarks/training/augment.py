#!/usr/bin/env python3
"""Writes an IDX image file of COUNT images: the source file's images, then augmented copies of
them (shifted by up to 2 pixels, brightness x0.8-1.1, Gaussian noise of sigma 5 grey levels) until
COUNT images. Stands in for "a data team's million images" when measuring training at scale.

    augment.py SOURCE.idx[.gz] COUNT OUT.idx
"""
import gzip
import struct
import sys

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08 or dims != 3:
        sys.exit(f"{path} is not an IDX file of 8-bit images (magic {zero:#x} {kind:#x} {dims})")
    count, height, width = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, height, width)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    images = read_idx(source)
    n, height, width = images.shape
    rng = np.random.default_rng(19)
    with open(out, "wb") as f:
        f.write(struct.pack(">HBBIII", 0, 0x08, 3, count, height, width))
        f.write(images[: min(n, count)].tobytes())
        written, block = min(n, count), 50_000
        while written < count:
            rows = np.arange(written, min(count, written + block)) % n
            batch = images[rows].astype(np.float32)
            shifted = np.zeros_like(batch)
            dx = rng.integers(-2, 3, size=len(rows))
            dy = rng.integers(-2, 3, size=len(rows))
            for i in range(len(rows)):
                shifted[i] = np.roll(np.roll(batch[i], dy[i], axis=0), dx[i], axis=1)
                if dy[i] > 0: shifted[i, : dy[i], :] = 0
                if dy[i] < 0: shifted[i, dy[i]:, :] = 0
                if dx[i] > 0: shifted[i, :, : dx[i]] = 0
                if dx[i] < 0: shifted[i, :, dx[i]:] = 0
            gain = rng.uniform(0.8, 1.1, size=(len(rows), 1, 1)).astype(np.float32)
            noisy = shifted * gain + rng.normal(0, 5, size=shifted.shape).astype(np.float32)
            f.write(np.clip(np.rint(noisy), 0, 255).astype(np.uint8).tobytes())
            written += len(rows)
            print(f"\r{written:,} of {count:,} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
