"""JPEGs with every EXIF orientation (1-8) and, for each, how Pillow shows it upright
(`ImageOps.exif_transpose`, saved as PNG): what ImageDecoderTests compares our decoding with.

    python3 -m venv /tmp/pil && /tmp/pil/bin/pip install pillow numpy
    /tmp/pil/bin/python Fixtures/exif/make_exif_fixtures.py

The picture is 3 × 2 blocks of 8 × 8 pixels in six colours (24 wide, 16 high), so that any turn
or mirror moves every block somewhere recognisable; quality 100 without chroma subsampling keeps
the blocks' colours within a few levels.
"""
import os

import numpy as np
from PIL import Image, ImageOps

here = os.path.dirname(os.path.abspath(__file__))
colours = [(230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30), (30, 230, 230), (230, 30, 230)]
pixels = np.zeros((16, 24, 3), np.uint8)
for block, colour in enumerate(colours):
    row, column = divmod(block, 3)
    pixels[8 * row:8 * row + 8, 8 * column:8 * column + 8] = colour
picture = Image.fromarray(pixels)
for orientation in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = os.path.join(here, "orientation-%d.jpg" % orientation)
    picture.save(path, quality=100, subsampling=0, exif=exif.tobytes())
    ImageOps.exif_transpose(Image.open(path)).save(os.path.join(here, "orientation-%d-upright.png" % orientation))
