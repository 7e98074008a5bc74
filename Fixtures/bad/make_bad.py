#!/usr/bin/env python3
"""Writes the bad-input corpus next to this script: one file per class of input BGANStore must
refuse with a clear error and without losing anything. Tests/BGANDBTests/BadInputTests.swift
feeds each to bgan-db. Run from anywhere; needs only the Python standard library. The valid
16-bit model it derives the bad models from, models/valid-16bit.bganmodel, was written by
`bgan-db train --data t10k-images-idx3-ubyte.gz --limit 64 --epochs 1 --bits 16 --filters 1
--hidden-units 4 --feature-units 4`."""
import hashlib
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(path, data):
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(data)


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png(width, height, rows):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


good_png = png(8, 8, b"".join(b"\x00" + bytes(range(y * 8, y * 8 + 8)) for y in range(8)))

# Images.
write("images/truncated.png", good_png[: len(good_png) // 2])
write("images/zero-bytes.png", b"")
write("images/wrong-magic.png", b"this file is named .png but holds text\n")
write("images/huge-dimensions.png", png(100000, 100000, b"\x00" * 16))
write("images/huge-dimensions.pgm", b"P5\n100000 100000\n255\n" + b"\x00" * 64)
write("images/truncated.pgm", b"P5\n8 8\n255\n" + bytes(20))
# A real JPEG (the 8x6 gray fixture) whose frame header is edited to claim 65000 x 65000 pixels.
with open(os.path.join(HERE, "../images/gray.jpg"), "rb") as f:
    jpeg = bytearray(f.read())
frame = jpeg.index(b"\xff\xc0")
jpeg[frame + 5:frame + 9] = struct.pack(">HH", 65000, 65000)
write("images/huge-dimensions.jpg", bytes(jpeg))
write("images/not-an-image.txt", b"notes about the photos\n")
# A 16-bit gray PNG with an invalid colour type (5 does not exist).
write("images/bad-colour-type.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 5, 0, 0, 0))
      + chunk(b"IDAT", zlib.compress(b"\x00" * 20)) + chunk(b"IEND", b""))

# Model files.
with open(os.path.join(HERE, "models/valid-16bit.bganmodel"), "rb") as f:
    model = f.read()
magic, version, header_length = model[:8], struct.unpack("<I", model[8:12])[0], struct.unpack("<I", model[12:16])[0]
header = json.loads(model[16:16 + header_length])
rest = model[16 + header_length:-32]


def sealed(version, header_bytes, rest):
    body = magic + struct.pack("<I", version) + struct.pack("<I", len(header_bytes)) + header_bytes + rest
    return body + hashlib.sha256(body).digest()


write("models/truncated.bganmodel", model[:-100])
flipped = bytearray(model)
flipped[len(model) // 2] ^= 0x10
write("models/bit-flipped.bganmodel", bytes(flipped))
write("models/version-6.bganmodel", sealed(6, model[16:16 + header_length], rest))
huge = json.loads(json.dumps(header))
huge["architecture"]["filters"] = 1000000
write("models/huge-architecture.bganmodel", sealed(version, json.dumps(huge, sort_keys=True, separators=(",", ":")).encode(), rest))
mirrored = json.loads(json.dumps(header))
mirrored["mirrorAveraging"] = True
write("models/mirror-averaging-version-1.bganmodel", sealed(version, json.dumps(mirrored, sort_keys=True, separators=(",", ":")).encode(), rest))
standardised = json.loads(json.dumps(header))
standardised["architecture"]["standardisedInput"] = True
write("models/standardised-input-version-2.bganmodel", sealed(2, json.dumps(standardised, sort_keys=True, separators=(",", ":")).encode(), rest))
write("models/not-a-model.bganmodel", b"#!/bin/sh\necho models are data, never code\n")

# Codes: three 32-bit codes (4 bytes each) as NumPy uint8 [3, 4], for 64-bit stores.
npy_header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4), }"
npy_header += " " * (64 - 10 - len(npy_header) - 1) + "\n"
write("codes/32-bit-codes.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(npy_header)) + npy_header.encode() + bytes(range(12)))
