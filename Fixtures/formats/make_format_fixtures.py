"""Writes the WebP, BMP and CMYK JPEG fixtures of PixelIOTests with Pillow, each beside a PNG of
the pixels a decoder must produce (for lossy WebP: of the picture before compression; for CMYK
JPEGs: libjpeg-turbo's djpeg's RGB, checked here against Pillow's), and files of the formats the
decoder refuses (GIF, TIFF, JPEG 2000, AVIF, HEIC and JPEG XL openings, odd bitmaps).

    python make_format_fixtures.py     (needs Pillow with WebP, AVIF and JPEG 2000 support, as
                                        PyPI's Pillow 13 wheels have, and libturbojpeg and djpeg:
                                        Debian libturbojpeg0 and libjpeg-turbo-progs)
"""
import ctypes
import io
import struct
import subprocess

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


def bitmap(bits, rows, palette=b"", compression=0, masks=b"", header_size=40):
    """A bottom-up Windows bitmap of W×H pixels from its rows (top first), packed as given."""
    stride = (W * bits + 31) // 32 * 4
    body = b"".join(row.ljust(stride, b"\0") for row in reversed(rows))
    offset = 14 + header_size + len(masks) + len(palette)
    if header_size == 12:  # OS/2 1.x: BITMAPCOREHEADER
        info = struct.pack("<IHHHH", 12, W, H, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", 40, W, H, 1, bits, compression, len(body), 2835, 2835, len(palette) // 4, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + masks + palette + body


pixels = [[rgb.getpixel((x, y)) for x in range(W)] for y in range(H)]
# 4 bits a pixel, which Pillow does not write: the 16-colour palette image, two pixels a byte.
palette16 = rgb.quantize(colors=16)
colours = palette16.getpalette()[:48]
quad = b"".join(bytes([colours[3 * i + 2], colours[3 * i + 1], colours[3 * i], 0]) for i in range(16))
indices = [[palette16.getpixel((x, y)) for x in range(W)] + [0] for y in range(H)]
open("palette4.bmp", "wb").write(bitmap(4, [bytes(r[x] << 4 | r[x + 1] for x in range(0, W, 2)) for r in indices], palette=quad))
palette16.convert("RGB").save("palette4.png")
# 32 bits a pixel, B, G, R and an unused byte: plain (BI_RGB) and with the usual bit-field masks.
rows32 = [b"".join(bytes([b, g, r, 0x7F]) for r, g, b in row) for row in pixels]
open("rgb32.bmp", "wb").write(bitmap(32, rows32))
open("rgb32-bitfields.bmp", "wb").write(bitmap(32, rows32, compression=3, masks=struct.pack("<III", 0xFF0000, 0xFF00, 0xFF)))
# Bitmaps refused with their reason: 16 bits a pixel, run-length coded, an OS/2 header.
open("rgb16.bmp", "wb").write(bitmap(16, [bytes(2 * W)] * H))
open("rle8.bmp", "wb").write(bitmap(8, [bytes(W)] * H, palette=quad * 16, compression=1))
open("os2.bmp", "wb").write(bitmap(24, [b"".join(bytes([b, g, r]) for r, g, b in row) for row in pixels], header_size=12))

# Formats recognised and refused by name: real files where Pillow writes them, and the opening
# boxes of a HEIC and a JPEG XL file (what the decoder reads to name them) where it does not.
rgb.save("picture.gif")
rgb.save("picture.tiff")
rgb.save("picture.jp2")
rgb.save("picture.avif", quality=80)
open("picture-header.heic", "wb").write(struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic")
open("picture-header.jxl", "wb").write(struct.pack(">I", 12) + b"JXL \r\n\x87\n" + struct.pack(">I", 20) + b"ftypjxl " + struct.pack(">I", 0) + b"jxl ")

# Truncated copies: the decoders must refuse them whole.
open("truncated.bmp", "wb").write(open("rgb24.bmp", "rb").read()[:300])
open("truncated.webp", "wb").write(open("rgb-lossy.webp", "rb").read()[:120])


def ycck_jpeg(samples, subsampling=0):
    """A YCCK JPEG (what TurboJPEG makes of CMYK samples), written through TurboJPEG; chroma
    subsampling 0 is 4:4:4, 2 is 4:2:0."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    buffer, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    TJPF_CMYK = 11
    assert tj.tjCompress2(handle, samples, W, 0, H, TJPF_CMYK, ctypes.byref(buffer), ctypes.byref(size), subsampling, 95, 0) == 0
    data = ctypes.string_at(buffer, size.value)
    tj.tjFree(buffer)
    tj.tjDestroy(handle)
    return data


def djpeg_rgb(name, scale="1/1"):
    """The RGB libjpeg-turbo's djpeg makes of a JPEG at a DCT scale, as a PIL image."""
    return Image.open(io.BytesIO(subprocess.run(["djpeg", "-scale", scale, "-pnm", name], check=True, capture_output=True).stdout))


# CMYK JPEGs: a plain CMYK one (Pillow writes Adobe's marker and inverted samples, 255 = no ink)
# of the RGB picture, and a YCCK one whose black channel varies, so that K is exercised too.
rgb.convert("CMYK").save("cmyk.jpg", quality=95, subsampling=0)
samples = bytes(v for y in range(H) for x in range(W) for v in ((x * 7) % 256, (y * 11) % 256, ((x + y) * 5) % 256, 255 - (x * 3 + y * 5) % 160))
open("ycck.jpg", "wb").write(ycck_jpeg(samples))
open("ycck-420.jpg", "wb").write(ycck_jpeg(samples, subsampling=2))
for name in ["cmyk", "ycck", "ycck-420"]:
    reference = djpeg_rgb(name + ".jpg")
    pillow = Image.open(name + ".jpg").convert("RGB")
    worst = max(abs(a - b) for a, b in zip(reference.tobytes(), pillow.tobytes()))
    assert worst <= 2, f"{name}.jpg: djpeg and Pillow differ by {worst}"
    reference.save(name + "-djpeg.png")
    print(f"{name}.jpg: djpeg and Pillow differ by at most {worst}")
djpeg_rgb("cmyk.jpg", "1/2").save("cmyk-djpeg-half.png")
djpeg_rgb("cmyk.jpg", "1/8").save("cmyk-djpeg-eighth.png")
print("wrote the WebP, BMP and CMYK JPEG fixtures")
