"""Writes the hand-made JPEGs of JPEGEighthScaleTests.hostileFiles: each is a way a 1/8-scale
decoder of our own could disagree with TurboJPEG 2.1 (found by a review of that decoder).

    python make_hostile_jpegs.py     (Pillow for the first file; the others are bytes)

- chroma420-dc-out-of-range.jpg: a 16×16 saturated-blue 4:2:0 JPEG at quality 100 whose chroma
  quantiser's DC entry is raised from 1 to 8, so the chroma 2×2 IDCT leaves the range where
  libjpeg-turbo's C code (wrapping) and its SSE2 code (saturating) agree.
- skip-underflow.jpg: one 8×8 gray block whose AC table has a 16-bit code of size 15 beside
  short codes, so a 31-bit symbol is followed by a 27-bit run of symbols (58 bits from one
  refill of 56), then 8 stray zero bytes that TurboJPEG reports as extraneous data.
- allones.jpg: a DC table whose two 1-bit codes use the all-ones code, which libjpeg refuses.
"""
import io

from PIL import Image


def segment(marker, body):
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def stuffed(data):
    return b"".join(bytes([b, 0]) if b == 0xFF else bytes([b]) for b in data)


def gray_8x8(dc_counts, dc_values, ac_counts, ac_values, entropy):
    return (b"\xff\xd8" + segment(0xDB, bytes([0]) + bytes([16] * 64))
            + segment(0xC0, bytes([8, 0, 8, 0, 8, 1, 1, 0x11, 0]))
            + segment(0xC4, bytes([0x00]) + bytes(dc_counts) + bytes(dc_values))
            + segment(0xC4, bytes([0x10]) + bytes(ac_counts) + bytes(ac_values))
            + segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0])) + stuffed(entropy) + b"\xff\xd9")


def bits_to_bytes(text):
    text += "1" * (-len(text) % 8)
    return bytes(int(text[i:i + 8], 2) for i in range(0, len(text), 8))


buffer = io.BytesIO()
Image.new("RGB", (16, 16), (0, 0, 255)).save(buffer, "JPEG", quality=100, subsampling="4:2:0")
jpeg = bytearray(buffer.getvalue())
position = 2
while jpeg[position + 1] != 0xDA:
    length = (jpeg[position + 2] << 8) | jpeg[position + 3]
    if jpeg[position + 1] == 0xDB:
        table = position + 4
        while table < position + 2 + length:
            if jpeg[table] & 15 == 1:
                jpeg[table + 1] = 8
            table += 65
    position += 2 + length
open("chroma420-dc-out-of-range.jpg", "wb").write(bytes(jpeg))

entropy = bits_to_bytes("0" + "1000000" + "1110000000000000" + "1" * 15 + "10" + "1" * 9 + "0" + "1" * 15 + "110")
open("skip-underflow.jpg", "wb").write(gray_8x8([1, 1] + [0] * 14, [7, 0], [1, 1, 1] + [0] * 12 + [1],
                                                [0x0F, 0x09, 0x00, 0x0F], entropy + bytes(8)))
open("allones.jpg", "wb").write(gray_8x8([2] + [0] * 15, [0, 1], [1, 1] + [0] * 14, [0x00, 0x01], bytes([0b00111111])))
