"""Writes the JPEG fixtures of PixelIOTests' JPEGEighthScaleTests with Pillow: layouts TurboJPEG's
compressor in the tests cannot make — restart markers (every few MCUs, every MCU row) and a
progressive file — on a textured 211×157 picture (odd sizes: partial MCUs at both edges).

    python make_jpeg_fixtures.py     (needs Pillow ≥ 10)
"""
import math
import random

from PIL import Image

W, H = 211, 157


def picture():
    rng = random.Random(2026)
    image = Image.new("RGB", (W, H))
    for y in range(H):
        for x in range(W):
            base = 128 + 90 * math.sin(x / 17.0) * math.cos(y / 11.0)
            image.putpixel((x, y), tuple(max(0, min(255, int(base + shift + rng.gauss(0, 18))))
                                         for shift in (0, 30 * math.sin(x / 5.0), -40 * math.cos(y / 7.0))))
    return image


rgb = picture()
rgb.save("restart-420.jpg", quality=90, subsampling="4:2:0", restart_marker_blocks=3)
rgb.save("restart-422-rows.jpg", quality=75, subsampling="4:2:2", restart_marker_rows=1)
rgb.save("restart-444.jpg", quality=90, subsampling="4:4:4", restart_marker_blocks=1)
rgb.convert("L").save("restart-gray.jpg", quality=85, restart_marker_blocks=7)
rgb.save("progressive-420.jpg", quality=90, subsampling="4:2:0", progressive=True)
