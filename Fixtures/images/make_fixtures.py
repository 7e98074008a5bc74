#!/usr/bin/env python3
"""Writes the image-decoding fixtures of Tests/PixelIOTests, independently of the decoders tested.

PNG is written here byte by byte (zlib + CRC from the standard library), PGM/PPM as text and
bytes, JPEG with libjpeg-turbo's cjpeg (Debian libjpeg-turbo-progs). Run from this folder:
python3 make_fixtures.py (CMYK JPEGs are in Fixtures/formats)

Every image is the same 8×6 pattern: pixel (x, y) has gray value 15·x + 20·y, colour
(R, G, B) = (15·x + 20·y, 255 − 30·x, 40·y) and alpha 255 − 10·(x + y). 16-bit samples are
value·256 + 128, so their high byte is the 8-bit value.
"""
import struct
import subprocess
import zlib

W, H = 8, 6


def gray(x, y):
    return 15 * x + 20 * y


def rgb(x, y):
    return (15 * x + 20 * y, 255 - 30 * x, 40 * y)


def alpha(x, y):
    return 255 - 10 * (x + y)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(color_type, bit_depth, rows, extra=b"", width=W, height=H):
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def main():
    write("gray8.png", png(0, 8, [[gray(x, y) for x in range(W)] for y in range(H)]))
    write("gray16.png", png(0, 16, [sum(([gray(x, y), 0x80] for x in range(W)), []) for y in range(H)]))
    write("gray-alpha.png", png(4, 8, [sum(([gray(x, y), alpha(x, y)] for x in range(W)), []) for y in range(H)]))
    write("rgb8.png", png(2, 8, [sum((list(rgb(x, y)) for x in range(W)), []) for y in range(H)]))
    write("rgb16.png", png(2, 16, [sum((sum(([c, 0x80] for c in rgb(x, y)), []) for x in range(W)), []) for y in range(H)]))
    write("rgba8.png", png(6, 8, [sum((list(rgb(x, y)) + [alpha(x, y)] for x in range(W)), []) for y in range(H)]))
    # A palette of the 48 colours, index = y·W + x.
    palette = b"".join(bytes(rgb(i % W, i // W)) for i in range(W * H))
    write("palette.png", png(3, 8, [[y * W + x for x in range(W)] for y in range(H)], extra=chunk(b"PLTE", palette)))

    pgm = b"P5\n# a comment\n%d %d\n255\n" % (W, H) + bytes(gray(x, y) for y in range(H) for x in range(W))
    ppm = b"P6\n%d %d\n255\n" % (W, H) + bytes(c for y in range(H) for x in range(W) for c in rgb(x, y))
    write("gray.pgm", pgm)
    write("rgb.ppm", ppm)
    write("gray-plain.pgm", ("P2\n# plain\n%d %d\n255\n" % (W, H) + "\n".join(" ".join(str(gray(x, y)) for x in range(W)) for y in range(H)) + "\n").encode())
    write("rgb-plain.ppm", ("P3 %d %d 255\n" % (W, H) + "\n".join(" ".join("%d %d %d" % rgb(x, y) for x in range(W)) for y in range(H)) + "\n").encode())
    write("gray16.pgm", b"P5 %d %d 65535\n" % (W, H) + b"".join(struct.pack(">H", gray(x, y) * 257) for y in range(H) for x in range(W)))

    for source, target in [("gray.pgm", "gray.jpg"), ("rgb.ppm", "rgb.jpg")]:
        subprocess.run(["cjpeg", "-quality", "100", "-sample", "1x1", "-outfile", target, source], check=True)

    # Broken and hostile files.
    rgb_png = open("rgb8.png", "rb").read()
    write("broken-truncated.png", rgb_png[: len(rgb_png) - 30])
    write("broken-zero.png", b"")
    write("broken-not-an-image.png", b"this is a text file with a .png name\n")
    bomb = struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)
    write("broken-huge.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", bomb) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    jpeg = open("rgb.jpg", "rb").read()
    write("broken-truncated.jpg", jpeg[: len(jpeg) - 40])  # cut inside the scan data
    write("broken-header.jpg", jpeg[:100])  # cut inside the header
    write("broken-truncated.pgm", pgm[:-10])
    write("broken-huge.pgm", b"P5 100000 100000 255\n" + bytes(16))
    write("broken-header.ppm", b"P6\n8 six\n255\n")


if __name__ == "__main__":
    main()
