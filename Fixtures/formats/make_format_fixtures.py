"""Writes the WebP and BMP fixtures of PixelIOTests with Pillow, each beside a PNG of the pixels
a decoder must produce (for lossy WebP: of the picture before compression).

    python make_format_fixtures.py     (needs Pillow with WebP support)
"""
import struct

from PIL import Image

W, H = 37, 23  # odd sizes: BMP rows are padded to 4 bytes, WebP to nothing


def picture(mode):
    image = Image.new("RGBA", (W, H))
    for y in range(H):
        for x in range(W):
            image.putpixel((x, y), ((x * 7) % 256, (y * 11) % 256, ((x + y) * 5) % 256, 255 if (x + y) % 3 else 96))
    return image.convert(mode)


def save(image, name, **options):
    image.save(name, **options)


rgb, rgba = picture("RGB"), picture("RGBA")
rgb.save("rgb.png")
rgba.save("rgba.png")
save(rgb, "rgb-lossless.webp", lossless=True)
save(rgba, "rgba-lossless.webp", lossless=True)
save(rgb, "rgb-lossy.webp", quality=90)
frames = [rgb, rgb.transpose(Image.FLIP_LEFT_RIGHT)]
frames[0].save("animated.webp", save_all=True, append_images=frames[1:], duration=100, loop=0)

save(rgb, "rgb24.bmp")
palette = rgb.quantize(colors=16)
palette.convert("RGB").save("palette.png")
save(palette, "palette8.bmp")
gray = picture("L")
gray.save("gray.png")
save(gray, "gray8.bmp")
bilevel = gray.point(lambda v: 255 if v > 100 else 0).convert("1")
bilevel.convert("L").save("bilevel.png")
save(bilevel, "bilevel1.bmp")

# A top-down 24-bit BMP (negative height), which Pillow does not write: rows first to last.
with open("rgb24.bmp", "rb") as f:
    data = bytearray(f.read())
offset = struct.unpack_from("<I", data, 10)[0]
row = (W * 3 + 3) // 4 * 4
rows = [data[offset + i * row: offset + (i + 1) * row] for i in range(H)]
struct.pack_into("<i", data, 22, -H)
data[offset:] = b"".join(reversed(rows))
open("rgb24-top-down.bmp", "wb").write(bytes(data))
# Truncated copies: the decoders must refuse them whole.
open("truncated.bmp", "wb").write(open("rgb24.bmp", "rb").read()[:300])
open("truncated.webp", "wb").write(open("rgb-lossy.webp", "rb").read()[:120])
print("wrote the WebP and BMP fixtures")
