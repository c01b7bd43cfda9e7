#!/usr/bin/python3
"""Reference cases for the formats beyond PNG/JPEG (WebP, AVIF, HEIC, GIF, BMP, TIFF, arithmetic JPEG) — dev-only.

Run with Debian's system Python (bookworm: python3-pil 9.4 + python3-numpy) and Debian's codec tools:
    apt-get install python3-pil python3-numpy webp libavif-bin libheif-examples imagemagick libjpeg-turbo-progs \
        libtiff-tools gifsicle
    /usr/bin/python3 scripts/gen-format-cases.py

Writes test/fixtures/formats/: inputs/ (the encoded files), cases.json (what each file is, how its reference was
made, the tolerance) and expected.bin.gz (the reference RGB pixels, concatenated, gzip), in the layout of
test/fixtures/preprocess/generated (test/helpers/image-cases.ts reads both).

The reference is transformers' `load_image`: PIL `Image.open` -> `ImageOps.exif_transpose` -> `convert("RGB")`.
- WebP, GIF, BMP, TIFF, arithmetic JPEG: Pillow 9.4 itself (it links libwebp 1.2.4, libtiff 4.5, libjpeg-turbo 2.1.5).
- AVIF: Pillow 9.4 has no AVIF plugin (Pillow >= 11.2 reads AVIF through libavif), so the reference is libavif's own
  decoder: `avifdec -d 8 in.avif out.png` (libavif 0.11.1 with dav1d, the library Pillow links), then the PNG through
  load_image (alpha dropped). An `irot` rotation is applied as Pillow 11.2+ does (it turns irot into an EXIF
  orientation that exif_transpose applies); avifdec itself leaves the stored orientation.
- HEIC: what pillow-heif returns is libheif's decode (transformations applied); `heif-convert in.heic out.png`
  (libheif 1.15.1 with libde265) gives the same, then the PNG through load_image.
Lossy WebP/AVIF/HEIC are compared within 2/255 (decoder versions differ in chroma upsampling and rounding); all
others exactly. Measured: WebP is exact; AVIF differs by 1 on about a third of the samples and by 3-4 on a few at
chroma edges (libyuv's bilinear upsampling in the reference, libavif's own in @jsquash/avif); HEIC by up to 5
(libheif 1.15's YCbCr conversion here, a newer libheif in libheif-js — the one current pillow-heif wheels ship is
newer too). The tests check those cases as `tolerance` for 90 % of the samples (98-100 % measured, 94 % on a 7x5 image) and `max_tolerance` for all.
"""
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "test", "fixtures")
OUT = os.path.join(FIX, "formats")
INPUTS = os.path.join(OUT, "inputs")


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except FileNotFoundError:
        sys.exit(f"{cmd[0]} is missing: apt-get install the packages named at the top of this script")


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def load_image(path):
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def rng(seed):
    return np.random.RandomState(seed)


def noise(seed, w, h, c=3):
    return rng(seed).randint(0, 256, (h, w, c)).astype(np.uint8)


def cats(w, h, box=(100, 50, 500, 350)):
    im = Image.open(os.path.join(FIX, "images", "cats.png")).convert("RGB")
    return im.crop(box).resize((w, h), Image.LANCZOS)


def with_alpha(im):
    """RGBA: the image with a diagonal alpha ramp (0 in one corner, 255 in the other) and a fully transparent band."""
    a = np.asarray(im.convert("RGB"))
    h, w = a.shape[:2]
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    alpha = ((x + y) * 255 // max(1, w + h - 2)).astype(np.uint8)
    alpha[h // 3 : h // 3 + 2] = 0
    return Image.fromarray(np.dstack([a, alpha]), "RGBA")


def exif_block(orientation):
    return (b"Exif\x00\x00II" + struct.pack("<HI", 42, 8) + struct.pack("<H", 1) + struct.pack("<HHI", 0x0112, 3, 1)
            + struct.pack("<H", orientation) + b"\0\0" + struct.pack("<I", 0))


class Cases:
    def __init__(self):
        self.blob = bytearray()
        self.cases = []

    def _store(self, arr):
        a = np.ascontiguousarray(arr, dtype=np.uint8)
        off = len(self.blob)
        self.blob += a.tobytes()
        return {"offset": off, "length": a.nbytes}

    def add(self, fmt, name, fname, im, reference, tolerance=0, note="", orientation=None, unrotated=None):
        case = {"name": name, "format": fmt, "input": f"inputs/{fname}", "note": note, "reference": reference,
                "tolerance": tolerance, "width": im.width, "height": im.height, "decoded": self._store(np.asarray(im)),
                "resizes": []}
        if fmt in ("avif", "heic") and tolerance:
            case["max_tolerance"] = 6  # see the module docstring: other libavif/libheif versions than the reference's
        if orientation is not None:
            case["orientation"] = orientation
            case["unrotated"] = self._store(np.asarray(unrotated))
        self.cases.append(case)

    def pil(self, fmt, name, fname, tolerance=0, note="", orientation=None):
        path = os.path.join(INPUTS, fname)
        unrot = Image.open(path).convert("RGB") if orientation is not None else None
        self.add(fmt, name, fname, load_image(path), "PIL 9.4 load_image", tolerance, note, orientation, unrot)


PIL_REF = "PIL 9.4 load_image"


# ---------------------------------------------------------------- WebP (Pillow writes and reads: libwebp 1.2.4)
def webp_cases(cs):
    p = lambda f: os.path.join(INPUTS, f)
    cats(61, 47).save(p("webp_lossy_61x47.webp"), "WEBP", quality=80)
    cs.pil("webp", "WebP lossy 61x47 q80", "webp_lossy_61x47.webp", 2, "VP8, 4:2:0")
    cats(7, 5).save(p("webp_lossy_7x5.webp"), "WEBP", quality=90)
    cs.pil("webp", "WebP lossy 7x5 (odd size)", "webp_lossy_7x5.webp", 2)
    Image.fromarray(noise(1, 1, 1)).save(p("webp_lossy_1x1.webp"), "WEBP", quality=90)
    cs.pil("webp", "WebP lossy 1x1", "webp_lossy_1x1.webp", 2)
    with_alpha(cats(33, 21)).save(p("webp_lossy_alpha.webp"), "WEBP", quality=70)
    cs.pil("webp", "WebP lossy with alpha (VP8X + ALPH)", "webp_lossy_alpha.webp", 2, "alpha dropped, not composited")
    Image.fromarray(noise(2, 19, 13)).save(p("webp_lossless_19x13.webp"), "WEBP", lossless=True)
    cs.pil("webp", "WebP lossless 19x13", "webp_lossless_19x13.webp", 0, "VP8L")
    with_alpha(Image.fromarray(noise(3, 17, 11))).save(p("webp_lossless_alpha.webp"), "WEBP", lossless=True, exact=True)
    cs.pil("webp", "WebP lossless with alpha, exact RGB under transparent pixels", "webp_lossless_alpha.webp", 0)
    frames = [cats(40, 30), cats(40, 30, (0, 0, 640, 480)), Image.fromarray(noise(4, 40, 30))]
    frames[0].save(p("webp_anim.webp"), "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0, quality=85)
    cs.pil("webp", "WebP animated, 3 frames (first frame)", "webp_anim.webp", 2, "ANIM/ANMF")
    fa = [with_alpha(Image.fromarray(noise(5, 24, 16))), Image.fromarray(noise(6, 24, 16)).convert("RGBA")]
    fa[0].save(p("webp_anim_lossless_alpha.webp"), "WEBP", save_all=True, append_images=fa[1:], lossless=True, exact=True)
    cs.pil("webp", "WebP animated lossless with alpha (first frame)", "webp_anim_lossless_alpha.webp", 0)
    cats(30, 20).save(p("webp_exif_6.webp"), "WEBP", quality=90, exif=exif_block(6))
    cs.pil("webp", "WebP with EXIF orientation 6", "webp_exif_6.webp", 2, orientation=6)
    cats(45, 33).save(p("tmp.png"))
    run("cwebp", "-quiet", "-q", "60", "-sharp_yuv", "-m", "6", p("tmp.png"), "-o", p("webp_cwebp_sharp.webp"))
    cs.pil("webp", "WebP lossy by cwebp -sharp_yuv -m 6", "webp_cwebp_sharp.webp", 2)
    os.remove(p("tmp.png"))


# ---------------------------------------------------------------- AVIF (avifenc; reference avifdec -d 8)
def rot90_ccw(arr, k):
    return np.rot90(arr, k)  # numpy rotates counter-clockwise, as irot's angle


def avif_cases(cs, tmp):
    specs = [
        ("avif_420_61x47.avif", cats(61, 47), ["-y", "420", "-d", "8"], "AVIF 8-bit 4:2:0 61x47", None),
        ("avif_444_32x24.avif", cats(32, 24), ["-y", "444", "-d", "8"], "AVIF 8-bit 4:4:4", None),
        ("avif_422_7x5.avif", cats(7, 5), ["-y", "422", "-d", "8"], "AVIF 8-bit 4:2:2, odd size 7x5", None),
        ("avif_10bit_40x30.avif", cats(40, 30), ["-y", "420", "-d", "10"], "AVIF 10-bit 4:2:0", None),
        ("avif_12bit_444.avif", cats(24, 18), ["-y", "444", "-d", "12"], "AVIF 12-bit 4:4:4", None),
        ("avif_alpha_33x21.avif", with_alpha(cats(33, 21)), ["-y", "420", "-d", "8"], "AVIF 8-bit with alpha", None),
        ("avif_lossless_19x13.avif", Image.fromarray(noise(7, 19, 13)), ["-l", "-d", "8"], "AVIF lossless (4:4:4, identity)", None),
        ("avif_irot1.avif", cats(30, 20), ["-y", "444", "-d", "8", "--irot", "1"], "AVIF with irot 90° anticlockwise", 1),
    ]
    for fname, im, args, name, irot in specs:
        src = os.path.join(tmp, "src.png")
        im.save(src)
        quality = [] if "-l" in args else ["--min", "8", "--max", "16"]
        run("avifenc", "-s", "8", *quality, *args, src, os.path.join(INPUTS, fname))
        dec = os.path.join(tmp, "dec.png")
        run("avifdec", "-d", "8", os.path.join(INPUTS, fname), dec)
        ref = load_image(dec)
        if irot:
            ref = Image.fromarray(np.ascontiguousarray(rot90_ccw(np.asarray(ref), irot)))
        lossless = "-l" in args
        cs.add("avif", name, fname, ref, "avifdec 0.11.1 -d 8 (dav1d, libyuv), then load_image" + (", irot applied" if irot else ""),
               0 if lossless else 2)


# ---------------------------------------------------------------- HEIC (heif-enc with x265; reference heif-convert)
def heic_cases(cs, tmp):
    specs = [
        ("heic_61x47.heic", cats(61, 47), ["-q", "60"], "HEIC 8-bit 4:2:0 61x47"),
        ("heic_7x5.heic", cats(7, 5), ["-q", "80"], "HEIC odd size 7x5"),
        ("heic_alpha_33x21.heic", with_alpha(cats(33, 21)), ["-q", "70"], "HEIC with alpha (auxiliary image)"),
        ("heic_444_32x24.heic", cats(32, 24), ["-q", "80", "-p", "chroma=444"], "HEIC 4:4:4"),
    ]
    for fname, im, args, name in specs:
        src = os.path.join(tmp, "src.png")
        im.save(src)
        run("heif-enc", *args, "-o", os.path.join(INPUTS, fname), src)
        dec = os.path.join(tmp, "dec.png")
        run("heif-convert", os.path.join(INPUTS, fname), dec)
        cs.add("heic", name, fname, load_image(dec), "heif-convert (libheif 1.15.1, libde265), then load_image", 2)


# ---------------------------------------------------------------- GIF (Pillow and gifsicle write, Pillow reads)
def gif_cases(cs):
    p = lambda f: os.path.join(INPUTS, f)
    base = cats(23, 17)
    base.convert("P", palette=Image.ADAPTIVE, colors=37).save(p("gif_p_23x17.gif"), interlace=False)
    cs.pil("gif", "GIF 37-colour palette, not interlaced", "gif_p_23x17.gif")
    cats(31, 40).convert("P", palette=Image.ADAPTIVE, colors=200).save(p("gif_interlaced.gif"), interlace=True)
    cs.pil("gif", "GIF interlaced 31x40", "gif_interlaced.gif")
    cats(20, 14).convert("L").save(p("gif_grey.gif"))
    cs.pil("gif", "GIF greyscale", "gif_grey.gif")
    im = cats(21, 18).convert("P", palette=Image.ADAPTIVE, colors=16)
    im.save(p("gif_transparent.gif"), transparency=3)
    cs.pil("gif", "GIF with a transparent index (RGB of the index kept)", "gif_transparent.gif")
    frames = [cats(30, 20).convert("P", palette=Image.ADAPTIVE, colors=64), Image.fromarray(noise(8, 30, 20)).convert("P")]
    frames[0].save(p("gif_anim.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)
    cs.pil("gif", "GIF animated (first frame)", "gif_anim.gif")
    Image.fromarray(noise(9, 1, 1)).convert("P", palette=Image.ADAPTIVE, colors=2).save(p("gif_1x1.gif"))
    cs.pil("gif", "GIF 1x1", "gif_1x1.gif")
    # First frame smaller than the logical screen, placed at (3, 2): with and without a transparent index.
    small = cats(12, 9).convert("P", palette=Image.ADAPTIVE, colors=32)
    small.save(p("tmp.gif"))
    run("gifsicle", "--logical-screen", "20x15", "--position", "3,2", p("tmp.gif"), "-o", p("gif_subframe.gif"))
    cs.pil("gif", "GIF first frame smaller than the screen (3,2 12x9 of 20x15)", "gif_subframe.gif")
    small.save(p("tmp.gif"), transparency=5)
    run("gifsicle", "--logical-screen", "20x15", "--position", "3,2", "--background", "#000000", p("tmp.gif"),
        "-o", p("gif_subframe_transparent.gif"))
    cs.pil("gif", "GIF sub-frame with transparency", "gif_subframe_transparent.gif")
    run("gifsicle", "--no-warnings", "--colors", "8", "--dither", "--no-extensions",
        p("gif_p_23x17.gif"), "-o", p("gif_8colours.gif"))
    cs.pil("gif", "GIF re-quantised by gifsicle to 8 colours", "gif_8colours.gif")
    os.remove(p("tmp.gif"))


# ---------------------------------------------------------------- BMP (Pillow, ImageMagick, our writer)
def bmp_file(path, w, h, bpp, pixel_bytes, palette=b"", compression=0, masks=b"", top_down=False, header=40):
    """A BMP written by hand: BITMAPINFOHEADER (or V4/V5 with `header`), optional masks and palette."""
    info = struct.pack("<IiiHHIIiiII", header, w, -h if top_down else h, 1, bpp, compression, len(pixel_bytes), 2835, 2835,
                       len(palette) // 4, 0)
    if header > 40:
        info += masks.ljust(header - 40, b"\0")
        masks = b""
    off = 14 + len(info) + len(masks) + len(palette)
    data = b"BM" + struct.pack("<IHHI", off + len(pixel_bytes), 0, 0, off) + info + masks + palette + pixel_bytes
    open(path, "wb").write(data)


def rows_padded(rows):
    return b"".join(r + b"\0" * (-len(r) % 4) for r in rows)


def rle8(idx):
    """RLE8 rows (bottom-up): runs where values repeat, absolute mode otherwise, end-of-line, end-of-bitmap."""
    out = bytearray()
    for row in idx[::-1]:
        i = 0
        n = len(row)
        while i < n:
            j = i
            while j < n and j - i < 255 and row[j] == row[i]:
                j += 1
            if j - i >= 3 or n - i < 3:
                out += bytes([j - i, row[i]])
                i = j
            else:
                k = min(n, i + 255)
                lit = bytes(row[i:k][: max(3, min(k - i, 20))])
                out += bytes([0, len(lit)]) + lit + (b"\0" if len(lit) % 2 else b"")
                i += len(lit)
        out += b"\0\0"
    return bytes(out + b"\0\1")


def rle4(idx):
    out = bytearray()
    for row in idx[::-1]:
        i = 0
        n = len(row)
        while i < n:
            # encoded run of two alternating nibbles, up to 255 pixels
            a = row[i]
            b = row[i + 1] if i + 1 < n else a
            j = i
            while j < n and j - i < 255 and row[j] == (a if (j - i) % 2 == 0 else b):
                j += 1
            if j - i >= 4 or n - i < 3:
                out += bytes([j - i, (a << 4) | b])
                i = j
            else:
                k = min(n, i + 12)
                lit = row[i:k]
                packed = bytes(((lit[m] << 4) | (lit[m + 1] if m + 1 < len(lit) else 0)) for m in range(0, len(lit), 2))
                out += bytes([0, len(lit)]) + packed + (b"\0" if len(packed) % 2 else b"")
                i = k
        out += b"\0\0"
    return bytes(out + b"\0\1")


def bmp_cases(cs, tmp):
    p = lambda f: os.path.join(INPUTS, f)
    rgb = cats(23, 17)
    rgb.save(p("bmp_24_23x17.bmp"))
    cs.pil("bmp", "BMP 24-bit (Pillow)", "bmp_24_23x17.bmp")
    rgb.convert("P", palette=Image.ADAPTIVE, colors=100).save(p("bmp_8_palette.bmp"))
    cs.pil("bmp", "BMP 8-bit palette (Pillow)", "bmp_8_palette.bmp")
    rgb.convert("L").save(p("bmp_8_grey.bmp"))
    cs.pil("bmp", "BMP 8-bit grey (Pillow)", "bmp_8_grey.bmp")
    rgb.convert("1").save(p("bmp_1bit.bmp"))
    cs.pil("bmp", "BMP 1-bit (Pillow)", "bmp_1bit.bmp")
    with_alpha(rgb).save(p("bmp_32_rgba.bmp"))
    cs.pil("bmp", "BMP 32-bit with alpha (Pillow)", "bmp_32_rgba.bmp")
    src = os.path.join(tmp, "src.png")
    rgb.save(src)
    run("convert", src, "-colors", "16", "-type", "Palette", "BMP3:" + p("bmp_4_palette.bmp"))
    cs.pil("bmp", "BMP 4-bit palette (ImageMagick)", "bmp_4_palette.bmp")
    run("convert", src, "-define", "bmp:subtype=RGB565", p("bmp_16_565.bmp"))
    cs.pil("bmp", "BMP 16-bit 5-6-5 bitfields (ImageMagick)", "bmp_16_565.bmp")
    run("convert", src, "-colors", "200", "-type", "Palette", "-compress", "RLE", "BMP3:" + p("bmp_rle8_im.bmp"))
    cs.pil("bmp", "BMP RLE8 (ImageMagick)", "bmp_rle8_im.bmp")
    # Hand-written: 16-bit 5-5-5 (BI_RGB), top-down 24-bit, 32-bit BI_RGB (BGRX), RLE8/RLE4 with runs and literals.
    a = np.asarray(rgb).astype(np.uint16)
    w, h = rgb.size
    v555 = ((a[..., 0] >> 3) << 10) | ((a[..., 1] >> 3) << 5) | (a[..., 2] >> 3)
    bmp_file(p("bmp_16_555.bmp"), w, h, 16, rows_padded([r.astype("<u2").tobytes() for r in v555[::-1]]))
    cs.pil("bmp", "BMP 16-bit 5-5-5 (BI_RGB)", "bmp_16_555.bmp")
    bgr = np.asarray(rgb)[..., ::-1]
    bmp_file(p("bmp_24_topdown.bmp"), w, h, 24, rows_padded([r.tobytes() for r in bgr]), top_down=True)
    cs.pil("bmp", "BMP 24-bit top-down (negative height)", "bmp_24_topdown.bmp")
    bgrx = np.dstack([bgr, np.full((h, w), 77, np.uint8)])
    bmp_file(p("bmp_32_bgrx.bmp"), w, h, 32, rows_padded([r.tobytes() for r in bgrx[::-1]]))
    cs.pil("bmp", "BMP 32-bit BI_RGB (fourth byte ignored)", "bmp_32_bgrx.bmp")
    pal_im = rgb.convert("P", palette=Image.ADAPTIVE, colors=12)
    idx = np.asarray(pal_im)
    idx = idx.copy()
    idx[5:9, 2:20] = 3  # long runs
    pal = pal_im.getpalette()[: 3 * 16]
    pal += [0] * (48 - len(pal))
    quad = b"".join(bytes([pal[3 * i + 2], pal[3 * i + 1], pal[3 * i], 0]) for i in range(16))
    bmp_file(p("bmp_rle8.bmp"), w, h, 8, rle8(idx), palette=quad, compression=1)
    cs.pil("bmp", "BMP RLE8 with runs and literals (our writer)", "bmp_rle8.bmp")
    bmp_file(p("bmp_rle4.bmp"), w, h, 4, rle4(idx), palette=quad, compression=2)
    cs.pil("bmp", "BMP RLE4 with runs and literals (our writer)", "bmp_rle4.bmp")
    masks = struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    bgra = np.dstack([bgr, np.asarray(with_alpha(rgb))[..., 3]])
    bmp_file(p("bmp_v5_bitfields_alpha.bmp"), w, h, 32, rows_padded([r.tobytes() for r in bgra[::-1]]), compression=3,
             masks=masks, header=124)
    cs.pil("bmp", "BMP V5 header, 32-bit bitfields with alpha mask", "bmp_v5_bitfields_alpha.bmp")


# ---------------------------------------------------------------- TIFF (Pillow with libtiff, tiffcp, ImageMagick)
def tiff_cases(cs, tmp):
    p = lambda f: os.path.join(INPUTS, f)
    rgb = cats(37, 29)
    for comp, word in [(None, "uncompressed"), ("tiff_lzw", "LZW"), ("tiff_adobe_deflate", "Deflate"), ("packbits", "PackBits")]:
        fname = f"tiff_{word.lower()}.tif"
        rgb.save(p(fname), compression=comp) if comp else rgb.save(p(fname))
        cs.pil("tiff", f"TIFF RGB {word}", fname)
    rgb.save(p("tiff_jpeg.tif"), compression="jpeg", quality=85)
    cs.pil("tiff", "TIFF JPEG-compressed (YCbCr 2x2, libtiff)", "tiff_jpeg.tif")
    rgb.save(p("tmp.tif"))
    run("tiffcp", "-c", "lzw:2", p("tmp.tif"), p("tiff_lzw_predictor.tif"))
    cs.pil("tiff", "TIFF LZW with horizontal predictor", "tiff_lzw_predictor.tif")
    run("tiffcp", "-c", "zip:2", "-t", "-w", "16", "-l", "16", p("tmp.tif"), p("tiff_tiled_deflate.tif"))
    cs.pil("tiff", "TIFF tiled 16x16, Deflate + predictor", "tiff_tiled_deflate.tif")
    run("tiffcp", "-c", "jpeg:90", "-t", "-w", "16", "-l", "16", p("tmp.tif"), p("tiff_tiled_jpeg.tif"))
    cs.pil("tiff", "TIFF tiled 16x16, JPEG", "tiff_tiled_jpeg.tif")
    run("tiffcp", "-c", "none", "-r", "5", p("tmp.tif"), p("tiff_strips.tif"))
    cs.pil("tiff", "TIFF 5 rows per strip", "tiff_strips.tif")
    rgb.convert("L").save(p("tiff_grey.tif"), compression="tiff_lzw")
    cs.pil("tiff", "TIFF greyscale 8-bit", "tiff_grey.tif")
    rgb.convert("1").save(p("tiff_bilevel.tif"), compression="packbits")
    cs.pil("tiff", "TIFF bilevel 1-bit", "tiff_bilevel.tif")
    rgb.convert("P", palette=Image.ADAPTIVE, colors=50).save(p("tiff_palette.tif"))
    cs.pil("tiff", "TIFF palette 8-bit", "tiff_palette.tif")
    rgb.convert("CMYK").save(p("tiff_cmyk.tif"), compression="tiff_lzw")
    cs.pil("tiff", "TIFF CMYK", "tiff_cmyk.tif")
    with_alpha(rgb).save(p("tiff_rgba.tif"), compression="tiff_adobe_deflate")
    cs.pil("tiff", "TIFF RGBA (unassociated alpha)", "tiff_rgba.tif")
    g16 = (np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
    g16[:5] //= 300  # some values below 256: PIL's I;16 -> RGB clips rather than scales
    Image.fromarray(g16, "I;16").save(p("tiff_grey16.tif"))
    cs.pil("tiff", "TIFF 16-bit greyscale", "tiff_grey16.tif")
    rgb.save(p("tmp.png"))
    run("convert", p("tmp.png"), "-depth", "16", "-compress", "Zip", p("tiff_rgb16.tif"))
    cs.pil("tiff", "TIFF 16-bit RGB (ImageMagick)", "tiff_rgb16.tif")
    run("convert", p("tmp.png"), "-endian", "MSB", "-compress", "LZW", p("tiff_bigendian.tif"))
    cs.pil("tiff", "TIFF big-endian (MM)", "tiff_bigendian.tif")
    rgb.save(p("tiff_multipage.tif"), save_all=True, append_images=[Image.fromarray(noise(10, 37, 29))])
    cs.pil("tiff", "TIFF two pages (first page)", "tiff_multipage.tif")
    rgb.save(p("tiff_orientation_6.tif"), tiffinfo={274: 6})
    # Pillow 9.4 applies a TIFF's Orientation when loading and then exif_transpose applies it again (fixed in Pillow
    # 10.1, python-pillow/Pillow#7383): the reference is the single rotation that load() gives, as current Pillow.
    once = Image.open(p("tiff_orientation_6.tif")).convert("RGB")
    cs.add("tiff", "TIFF Orientation tag 6", "tiff_orientation_6.tif", once, "PIL 9.4 open + convert (Orientation applied "
           "once, as Pillow >= 10.1's load_image)", 0, orientation=6, unrotated=rgb)
    for f in ("tmp.tif", "tmp.png"):
        os.remove(p(f))


# ---------------------------------------------------------------- arithmetic-coded JPEG (cjpeg -arithmetic)
def arith_cases(cs, tmp):
    specs = [
        ("jpeg_arith_420.jpg", cats(96, 72), ["-sample", "2x2,1x1,1x1"], "baseline 4:2:0"),
        ("jpeg_arith_444_restart.jpg", cats(61, 47), ["-sample", "1x1,1x1,1x1", "-restart", "1"], "4:4:4, restart every row"),
        ("jpeg_arith_422_odd.jpg", cats(161, 119), ["-sample", "2x1,1x1,1x1", "-quality", "60"], "4:2:2 161x119"),
        ("jpeg_arith_prog.jpg", cats(96, 72), ["-progressive"], "progressive 4:2:0"),
        ("jpeg_arith_prog_restart.jpg", cats(61, 47), ["-progressive", "-restart", "2B"], "progressive, restart every 2 MCUs"),
        ("jpeg_arith_grey.jpg", cats(33, 65), ["-grayscale"], "greyscale"),
        ("jpeg_arith_grey_prog.jpg", cats(40, 30), ["-grayscale", "-progressive", "-quality", "95"], "greyscale progressive q95"),
        ("jpeg_arith_q100.jpg", cats(24, 16), ["-quality", "100", "-sample", "1x1,1x1,1x1"], "quality 100"),
    ]
    for fname, im, args, name in specs:
        src = os.path.join(tmp, "src.ppm")
        im.save(src)
        with open(os.path.join(INPUTS, fname), "wb") as f:
            subprocess.run(["cjpeg", "-arithmetic", *args, src], check=True, stdout=f)
        cs.pil("jpeg", f"JPEG arithmetic-coded, {name}", fname)


def main():
    warnings.simplefilter("ignore")
    versions = {c[0]: tool_version(c) for c in [["cwebp", "-version"], ["avifenc", "--version"], ["heif-convert"],
                                                 ["cjpeg", "-version"], ["gifsicle", "--version"], ["convert", "-version"],
                                                 ["tiffcp"]]}
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(INPUTS)
    cs = Cases()
    with tempfile.TemporaryDirectory() as tmp:
        webp_cases(cs)
        avif_cases(cs, tmp)
        heic_cases(cs, tmp)
        gif_cases(cs)
        bmp_cases(cs, tmp)
        tiff_cases(cs, tmp)
        arith_cases(cs, tmp)
    with open(os.path.join(OUT, "expected.bin.gz"), "wb") as f:
        f.write(gzip.compress(bytes(cs.blob), compresslevel=9, mtime=0))
    meta = {
        "generator": "scripts/gen-format-cases.py",
        "pil_version": Image.__version__,
        "tools": versions,
        "reference": "load_image (Image.open, ImageOps.exif_transpose, convert('RGB')); AVIF via avifdec, HEIC via heif-convert",
        "expected": "expected.bin.gz: uint8 RGB rows, concatenated; offset/length per array",
        "cases": cs.cases,
    }
    json.dump(meta, open(os.path.join(OUT, "cases.json"), "w"), indent=1)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(cs.cases)} cases, {len(cs.blob)} expected bytes, {total / 1e3:.0f} kB on disk in {OUT}")


if __name__ == "__main__":
    main()
