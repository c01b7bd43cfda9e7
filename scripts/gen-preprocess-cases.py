#!/usr/bin/python3
"""Reference cases for the image pipeline (src/model/image), computed with PIL — dev-only.

Run with the system Python that has PIL 9.4 + numpy (not a pyenv one):  /usr/bin/python3 scripts/gen-preprocess-cases.py

1. Checks that the steps below reproduce test/fixtures/preprocess/pixel_values.safetensors bit for bit (they are
   SiglipImageProcessor's steps, transformers v4.44.2, re-implemented because transformers is not installed here):
   load_image = Image.open -> ImageOps.exif_transpose -> convert("RGB"); resize((W, H), BICUBIC);
   x.astype(float64) * rescale_factor -> float32; (x - mean) / std in float32; HWC -> CHW.
2. Writes test/fixtures/preprocess/generated/: inputs/ (PNG and JPEG files: every PNG colour type and bit depth,
   interlaced or not, every row filter; JPEGs baseline/progressive/grey/CMYK/odd sizes/sampling factors; EXIF and
   XMP orientations 1..8), cases.json (what each case is and where its expected pixels are) and expected.bin.gz
   (all expected uint8 RGB arrays, concatenated, gzip). Expected = PIL's decode (load_image) and PIL resizes.
   A few extra JPEGs (4:4:0, 4:1:1, YCCK, RGB, restart intervals, arithmetic coding) need libjpeg's C API: they are
   made with a small C helper when gcc and libjpeg headers are present (skipped otherwise).
"""
import gzip
import warnings
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "test", "fixtures")
OUT = os.path.join(FIX, "preprocess", "generated")
INPUTS = os.path.join(OUT, "inputs")
FILTERS = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR, "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}


# ---------------------------------------------------------------- reference pipeline (transformers' steps)
def load_image(path):
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def pixel_values(im, size, factor=1 / 255, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
    x = np.asarray(im.resize((size, size), Image.BICUBIC))
    x = (x.astype(np.float64) * factor).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return x.transpose(2, 0, 1)[None]


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"F32": np.float32, "F64": np.float64, "I32": np.int32}[v["dtype"]]
        out[k] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype=dt).reshape(v["shape"])
    return out


def check_fixture():
    ref = read_safetensors(os.path.join(FIX, "preprocess", "pixel_values.safetensors"))
    meta = json.load(open(os.path.join(FIX, "preprocess", "preprocess.json")))
    for name, case in meta["cases"].items():
        got = pixel_values(load_image(os.path.join(FIX, case["source"])), case["shape"][-1])
        if not np.array_equal(got, ref[name]):
            sys.exit(f"reference re-implementation differs from the fixture for {name}: max {np.abs(got - ref[name]).max()}")
    print(f"re-implementation reproduces pixel_values.safetensors exactly ({len(meta['cases'])} cases)")


# ---------------------------------------------------------------- our own PNG writer (PIL cannot write all kinds)
def _filter_row(ftype, row, prev, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i] if prev is not None else 0
        c = prev[i - bpp] if prev is not None and i >= bpp else 0
        if ftype == 0:
            p = 0
        elif ftype == 1:
            p = a
        elif ftype == 2:
            p = b
        elif ftype == 3:
            p = (a + b) >> 1
        else:
            q = a + b - c
            pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
            p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[i] = (row[i] - p) & 0xFF
    return bytes([ftype]) + bytes(out)


def _pack_rows(samples, depth):
    """samples: H x W x C uint16 array -> list of raw row bytes."""
    h, w, c = samples.shape
    rows = []
    for y in range(h):
        flat = samples[y].reshape(-1)
        if depth == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            bits = "".join(format(int(v), f"0{depth}b") for v in flat)
            bits += "0" * (-len(bits) % 8)
            rows.append(bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)))
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, samples, color_type, depth, palette=None, trns=None, interlace=False, extra=(), idat_parts=1, filt=None):
    h, w, c = samples.shape
    bpp = max(1, c * depth // 8)
    passes = [(0, 0, 1, 1)] if not interlace else ADAM7
    raw = b""
    n = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = None
        for row in _pack_rows(sub, depth):
            ft = (n % 5) if filt is None else filt
            raw += _filter_row(ft, row, prev, bpp)
            prev = row
            n += 1
    comp = zlib.compress(raw, 9)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    for t, d in extra:
        if t != b"post":
            out += chunk(t, d)
    if palette is not None:
        out += chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    step = -(-len(comp) // idat_parts)
    for i in range(0, len(comp), step):
        out += chunk(b"IDAT", comp[i : i + step])
    for t, d in extra:
        if t == b"post":
            out += chunk(d[0], d[1])
    out += chunk(b"IEND", b"")
    open(path, "wb").write(out)


# ---------------------------------------------------------------- optional libjpeg helper for exotic JPEGs
C_HELPER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
/* usage: mkjpeg in.raw w h ncomp incs(1 gray,2 rgb,4 cmyk) outcs(1 gray,2 rgb,3 ycc,4 cmyk,5 ycck) quality
         sampling(e.g. 21,11,11) restart_rows progressive arith out.jpg */
int main(int argc, char **argv) {
  if (argc != 13) return 2;
  int w = atoi(argv[2]), h = atoi(argv[3]), nc = atoi(argv[4]);
  FILE *f = fopen(argv[1], "rb"); unsigned char *buf = malloc((size_t)w * h * nc);
  if (fread(buf, 1, (size_t)w * h * nc, f) != (size_t)w * h * nc) return 3; fclose(f);
  struct jpeg_compress_struct c; struct jpeg_error_mgr e; c.err = jpeg_std_error(&e); jpeg_create_compress(&c);
  FILE *o = fopen(argv[12], "wb"); jpeg_stdio_dest(&c, o);
  c.image_width = w; c.image_height = h; c.input_components = nc;
  c.in_color_space = (J_COLOR_SPACE)atoi(argv[5]); jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, (J_COLOR_SPACE)atoi(argv[6])); jpeg_set_quality(&c, atoi(argv[7]), TRUE);
  char *s = argv[8]; for (int i = 0; i < c.num_components && *s; i++) {
    c.comp_info[i].h_samp_factor = s[0] - '0'; c.comp_info[i].v_samp_factor = s[1] - '0'; s += 2; if (*s == ',') s++; }
  c.restart_in_rows = atoi(argv[9]); if (atoi(argv[10])) jpeg_simple_progression(&c); c.arith_code = atoi(argv[11]);
  jpeg_start_compress(&c, TRUE); JSAMPROW row;
  while (c.next_scanline < c.image_height) { row = buf + (size_t)c.next_scanline * w * nc; jpeg_write_scanlines(&c, &row, 1); }
  jpeg_finish_compress(&c); fclose(o); return 0;
}
"""


def build_helper(tmp):
    if not shutil.which("gcc") or not os.path.exists("/usr/include/jpeglib.h"):
        print("gcc or jpeglib.h missing: skipping the libjpeg-made JPEG cases")
        return None
    src = os.path.join(tmp, "mkjpeg.c")
    exe = os.path.join(tmp, "mkjpeg")
    open(src, "w").write(C_HELPER)
    subprocess.run(["gcc", "-O1", "-o", exe, src, "-ljpeg"], check=True)
    return exe


def helper_jpeg(exe, tmp, path, arr, incs, outcs, sampling, quality=85, restart=0, progressive=0, arith=0):
    raw = os.path.join(tmp, "in.raw")
    a = np.ascontiguousarray(arr, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    a.tofile(raw)
    h, w, nc = a.shape
    args = [exe, raw, w, h, nc, incs, outcs, quality, sampling, restart, progressive, arith, path]
    subprocess.run([str(x) for x in args], check=True)


# ---------------------------------------------------------------- cases
def synthetic_pattern(w, h):
    """Deterministic 8-bit pattern, also computed by the tests (test/helpers/image-cases.ts): no 4000x3000 file."""
    x = np.arange(w, dtype=np.int64)[None, :]
    y = np.arange(h, dtype=np.int64)[:, None]
    r = ((x * 7 + y * 13) ^ ((x * y) >> 6)) & 255
    g = ((x >> 3) * 11 + (y >> 2) * 5) & 255
    b = (x ^ y) & 255
    return np.stack(np.broadcast_arrays(r, g, b), axis=-1).astype(np.uint8)


class Cases:
    def __init__(self):
        self.blob = bytearray()
        self.cases = []

    def _store(self, arr):
        a = np.ascontiguousarray(arr, dtype=np.uint8)
        off = len(self.blob)
        self.blob += a.tobytes()
        return {"offset": off, "length": a.nbytes}

    def _resizes(self, im, resizes):
        out = []
        for w, h, f in resizes:
            r = im.resize((w, h), FILTERS[f])
            out.append({"width": w, "height": h, "filter": f, **self._store(np.asarray(r))})
        return out

    def file(self, name, fname, resizes=(), note="", store_decoded=True, orientation=None, fix=None):
        im = load_image(os.path.join(INPUTS, fname))
        if fix:
            im = fix(im)
        case = {"name": name, "input": f"inputs/{fname}", "note": note, "width": im.width, "height": im.height}
        if store_decoded:
            case["decoded"] = self._store(np.asarray(im))
        if orientation is not None:
            case["orientation"] = orientation
            raw = Image.open(os.path.join(INPUTS, fname)).convert("RGB")  # no exif_transpose
            case["unrotated"] = self._store(np.asarray(raw))
        case["resizes"] = self._resizes(im, resizes)
        self.cases.append(case)

    def error(self, name, fname, message, note=""):
        self.cases.append({"name": name, "input": f"inputs/{fname}", "note": note, "error": message})

    def synthetic(self, name, w, h, resizes):
        im = Image.fromarray(synthetic_pattern(w, h))
        self.cases.append({"name": name, "synthetic": "pattern1", "width": w, "height": h, "resizes": self._resizes(im, resizes)})


def rng(seed):
    return np.random.RandomState(seed)


def noise(seed, w, h, c=3, hi=256):
    return rng(seed).randint(0, hi, (h, w, c)).astype(np.uint8 if hi <= 256 else np.uint16)


def gradient(w, h):
    x = np.linspace(0, 255, w)[None, :, None]
    y = np.linspace(0, 255, h)[:, None, None]
    return np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)), np.broadcast_to((x + y) / 2, (h, w, 1))], axis=2).round().astype(np.uint8)


def resize_cases(cs):
    specs = [
        ((1, 1), [(1, 1, "bicubic"), (3, 3, "bicubic"), (5, 2, "bicubic")]),
        ((2, 3), [(1, 1, "bicubic"), (7, 5, "bicubic"), (4, 6, "bicubic")]),
        ((7, 5), [(3, 2, "bicubic"), (14, 10, "bicubic"), (7, 9, "bicubic"), (11, 5, "bicubic"), (16, 11, "bilinear"),
                  (16, 11, "lanczos"), (16, 11, "box"), (16, 11, "hamming")]),
        ((16, 16), [(224, 224, "bicubic"), (15, 15, "bicubic")]),
        ((61, 47), [(13, 11, "bicubic"), (100, 37, "bicubic"), (61, 47, "bicubic"), (29, 17, "bilinear"), (29, 17, "lanczos"),
                    (29, 17, "box"), (29, 17, "hamming")]),
        ((1000, 20), [(50, 50, "bicubic"), (64, 64, "bicubic"), (999, 21, "bicubic"), (7, 200, "bicubic")]),
        ((20, 1000), [(50, 50, "bicubic")]),
        ((127, 1), [(13, 1, "bicubic"), (300, 4, "bicubic")]),
        ((333, 257), [(224, 224, "bicubic"), (97, 61, "bicubic")]),
    ]
    for i, ((w, h), rs) in enumerate(specs):
        arr = noise(100 + i, w, h) if i % 2 == 0 else (noise(100 + i, w, h) // 2 + gradient(w, h) // 2)
        fname = f"resize_{w}x{h}.png"
        Image.fromarray(arr).save(os.path.join(INPUTS, fname))
        cs.file(f"resize {w}x{h}", fname, rs, note="8-bit RGB PNG written by PIL; resize matrix", store_decoded=w * h <= 4096)
    cs.synthetic("synthetic 4000x3000 pattern", 4000, 3000, [(384, 384, "bicubic"), (224, 224, "bicubic"), (97, 61, "bicubic")])


def png_cases(cs):
    valid = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
    seed = 200
    for ct, depths in valid.items():
        for d in depths:
            for inter in (False, True):
                for w, h in ([(13, 9), (1, 1), (3, 2)] if inter else [(13, 9)]):
                    seed += 1
                    hi = (1 << d) if ct != 3 else min(1 << d, 256)
                    s = rng(seed).randint(0, hi, (h, w, chans[ct])).astype(np.uint16)
                    pal = trns = None
                    fix = None
                    if ct == 3:
                        pal = list(rng(seed + 1).randint(0, 256, 3 * (1 << d)))
                        if d == 8:
                            # Indices 200..255 are past the palette: black in Pillow >= 10, which the reference
                            # follows (Pillow 9.4 here gives a grey ramp, so its pixels are replaced).
                            pal = pal[: 3 * 200]
                            past = s[:, :, 0] >= 200
                            fix = lambda im, past=past: Image.fromarray(np.where(past[:, :, None], 0, np.asarray(im)).astype(np.uint8))
                        if d in (2, 8):
                            trns = list(rng(seed + 2).randint(0, 256, min(1 << d, 16)))
                    if ct == 0 and d == 8:
                        trns = [0, 7]
                    if ct == 2 and d == 8:
                        trns = [0, 1, 0, 2, 0, 3]
                    fname = f"png_ct{ct}_d{d}{'_adam7' if inter else ''}_{w}x{h}.png"
                    write_png(os.path.join(INPUTS, fname), s, ct, d, palette=pal, trns=trns, interlace=inter, idat_parts=2 if inter else 1)
                    cs.file(f"png colour type {ct}, {d}-bit{', interlaced' if inter else ''}, {w}x{h}", fname,
                            [(5, 4, "bicubic")] if w > 1 else [], note="written by our PNG writer: all row filters, tRNS where allowed",
                            fix=fix)
    # 16-bit grey with small values: PIL's mode "I" -> RGB clips at 255 instead of scaling.
    s = rng(300).randint(0, 300, (9, 13, 1)).astype(np.uint16)
    write_png(os.path.join(INPUTS, "png_grey16_small.png"), s, 0, 16)
    cs.file("png 16-bit grey, values 0..299 (PIL clips >255)", "png_grey16_small.png", [(6, 5, "bicubic")])
    # PIL-written modes
    base = noise(301, 23, 17, 4)
    for mode in ("RGBA", "LA", "L", "P", "I;16", "1"):
        im = Image.fromarray(base, "RGBA")
        im = im.convert("RGB").convert("P", palette=Image.ADAPTIVE, colors=37) if mode == "P" else im.convert(mode) if mode != "I;16" else Image.fromarray((noise(302, 23, 17, 1)[:, :, 0].astype(np.uint16) * 257), "I;16")
        fname = f"png_pil_{mode.replace(';', '')}.png"
        im.save(os.path.join(INPUTS, fname))
        cs.file(f"png written by PIL, mode {mode}", fname, [(9, 7, "bicubic")])
    im = Image.fromarray(noise(303, 31, 19))
    im.save(os.path.join(INPUTS, "png_pil_rgb_opt.png"), optimize=True)
    cs.file("png written by PIL, RGB optimize", "png_pil_rgb_opt.png", [(12, 12, "bicubic")])


def cats(w, h, box=None):
    im = Image.open(os.path.join(FIX, "images", "cats.png")).convert("RGB")
    if box:
        im = im.crop(box)
    return im.resize((w, h), Image.LANCZOS)


def jpeg_cases(cs):
    for (w, h), q, ss, prog, extra in [
        ((160, 120), 75, 2, False, {}),
        ((160, 120), 90, 1, False, {}),
        ((160, 120), 95, 0, False, {}),
        ((160, 120), 75, 2, True, {}),
        ((160, 120), 30, 2, False, {"optimize": True}),
        ((161, 119), 85, 2, True, {}),
        ((1, 1), 90, 2, False, {}),
        ((7, 5), 90, 2, False, {}),
        ((17, 9), 80, 1, True, {}),
        ((33, 65), 70, 2, False, {}),
        ((100, 1), 90, 2, False, {}),
        ((1, 40), 90, 1, False, {}),
        ((3, 3), 90, 2, False, {}),
        ((4, 4), 90, 1, False, {}),
    ]:
        fname = f"jpeg_{w}x{h}_q{q}_s{ss}{'_prog' if prog else ''}{'_opt' if extra else ''}.jpg"
        cats(w, h, (100, 50, 500, 350)).save(os.path.join(INPUTS, fname), quality=q, subsampling=ss, progressive=prog, **extra)
        rs = [(13, 11, "bicubic")] + ([(224, 224, "bicubic")] if w == 160 and h == 120 and q == 75 and not prog else [])
        cs.file(f"jpeg {w}x{h} q{q} subsampling {ss}{' progressive' if prog else ''}", fname, rs, note="written by PIL (libjpeg-turbo)")
    cats(120, 90).convert("L").save(os.path.join(INPUTS, "jpeg_grey.jpg"), quality=85)
    cs.file("jpeg greyscale", "jpeg_grey.jpg", [(13, 11, "bicubic")])
    cats(120, 90).convert("L").save(os.path.join(INPUTS, "jpeg_grey_prog.jpg"), quality=85, progressive=True)
    cs.file("jpeg greyscale progressive", "jpeg_grey_prog.jpg", [(13, 11, "bicubic")])
    cats(64, 48).convert("CMYK").save(os.path.join(INPUTS, "jpeg_cmyk.jpg"), quality=90)
    cs.file("jpeg CMYK (Adobe, inverted)", "jpeg_cmyk.jpg", [(13, 11, "bicubic")])


def helper_cases(cs, exe, tmp):
    rgb = np.asarray(cats(96, 72, (200, 100, 520, 340)))
    cmyk = np.asarray(cats(64, 48).convert("CMYK"))
    specs = [
        ("jpeg_440.jpg", rgb, 2, 3, "12,11,11", {}, "4:4:0 (h1v2 fancy upsampling)"),
        ("jpeg_411.jpg", rgb, 2, 3, "41,11,11", {}, "4:1:1 (box upsampling)"),
        ("jpeg_310.jpg", rgb, 2, 3, "31,11,11", {}, "3:1 horizontal (box)"),
        ("jpeg_212121.jpg", rgb, 2, 3, "21,21,21", {}, "all components 2x1 (full size)"),
        ("jpeg_221211.jpg", rgb, 2, 3, "22,12,11", {}, "mixed factors"),
        ("jpeg_420_narrow.jpg", rgb[:, :3], 2, 3, "22,11,11", {}, "4:2:0, chroma 2 samples wide (box)"),
        ("jpeg_rgb.jpg", rgb, 2, 2, "11,11,11", {}, "RGB JPEG (Adobe transform 0)"),
        ("jpeg_ycck.jpg", cmyk, 4, 5, "22,11,11,22", {}, "YCCK (Adobe transform 2)"),
        ("jpeg_cmyk_plain.jpg", cmyk, 4, 4, "11,11,11,11", {}, "CMYK via libjpeg"),
        ("jpeg_restart.jpg", rgb, 2, 3, "22,11,11", {"restart": 1}, "restart markers every MCU row"),
        ("jpeg_restart_prog.jpg", rgb, 2, 3, "22,11,11", {"restart": 1, "progressive": 1}, "progressive with restart markers"),
        ("jpeg_grey_from_rgb.jpg", rgb, 2, 1, "11", {}, "RGB input stored as greyscale"),
    ]
    for fname, arr, incs, outcs, samp, kw, note in specs:
        helper_jpeg(exe, tmp, os.path.join(INPUTS, fname), arr, incs, outcs, samp, **kw)
        cs.file(f"jpeg {note}", fname, [(13, 11, "bicubic")], note="written by libjpeg-turbo through a C helper")
    helper_jpeg(exe, tmp, os.path.join(INPUTS, "jpeg_arith.jpg"), rgb, 2, 3, "22,11,11", arith=1)
    cs.file("jpeg arithmetic coding", "jpeg_arith.jpg", [(13, 11, "bicubic")], note="written by libjpeg-turbo through a C helper")


def exif_block(orientation, big_endian=False):
    e = "MM" if big_endian else "II"
    p = (lambda fmt, *v: struct.pack(">" + fmt, *v)) if big_endian else (lambda fmt, *v: struct.pack("<" + fmt, *v))
    return b"Exif\x00\x00" + e.encode() + p("H", 42) + p("I", 8) + p("H", 1) + p("HHI", 0x0112, 3, 1) + p("H", orientation) + b"\0\0" + p("I", 0)


def orientation_cases(cs):
    arr = np.zeros((8, 12, 3), dtype=np.uint8)
    arr[:4, :6] = (255, 0, 0)
    arr[:4, 6:] = (0, 255, 0)
    arr[4:, :6] = (0, 0, 255)
    arr[4:, 6:] = (255, 255, 0)
    arr[0, 0] = (255, 255, 255)
    arr[1, 2] = (0, 0, 0)
    noisy = arr // 2 + noise(400, 12, 8) // 2
    for k in range(1, 9):
        f = f"exif_jpeg_{k}.jpg"
        Image.fromarray(arr).save(os.path.join(INPUTS, f), quality=95, exif=exif_block(k, big_endian=k % 2 == 0))
        cs.file(f"jpeg EXIF orientation {k}", f, [(5, 3, "bicubic")], orientation=k)
        f = f"exif_png_{k}.png"
        Image.fromarray(noisy).save(os.path.join(INPUTS, f), exif=exif_block(k))
        cs.file(f"png eXIf orientation {k}", f, [(5, 3, "bicubic")], orientation=k)
    s = noisy.astype(np.uint16)
    xmp1 = b'XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    write_png(os.path.join(INPUTS, "xmp_png_6.png"), s, 2, 8, extra=[(b"iTXt", xmp1)])
    cs.file("png XMP tiff:Orientation=\"6\"", "xmp_png_6.png", [], orientation=6)
    xmp2 = b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta><tiff:Orientation>3</tiff:Orientation></x:xmpmeta>"
    write_png(os.path.join(INPUTS, "xmp_png_3_post.png"), s, 2, 8, extra=[(b"post", (b"iTXt", xmp2))])
    cs.file("png XMP <tiff:Orientation>3 after IDAT", "xmp_png_3_post.png", [], orientation=3)
    hexed = exif_block(8).hex()
    raw = b"Raw profile type exif\0\0" + zlib.compress(f"\nexif\n{len(hexed) // 2:8d}\n{hexed}\n".encode())
    write_png(os.path.join(INPUTS, "rawprofile_png_8.png"), s, 2, 8, extra=[(b"zTXt", raw)])
    cs.file("png zTXt 'Raw profile type exif' orientation 8", "rawprofile_png_8.png", [], orientation=8)
    write_png(os.path.join(INPUTS, "exif_png_post_5.png"), s, 2, 8, extra=[(b"post", (b"eXIf", exif_block(5)[6:]))])
    cs.file("png eXIf after IDAT, orientation 5", "exif_png_post_5.png", [], orientation=5)
    write_png(os.path.join(INPUTS, "exif_png_pre_and_post.png"), s, 2, 8,
              extra=[(b"eXIf", exif_block(2)[6:]), (b"post", (b"eXIf", exif_block(7)[6:]))])
    cs.file("png eXIf before (2) and after (7) IDAT: PIL uses the one before", "exif_png_pre_and_post.png", [], orientation=2)


def large_cases(cs):
    """4000x3000 PNG and JPEG (camera-sized) for exactness and timing; content compresses well to keep them small."""
    w, h = 4000, 3000
    x = (np.arange(w) * 255 // (w - 1))[None, :]
    y = (np.arange(h) * 255 // (h - 1))[:, None]
    im = Image.fromarray(np.stack(np.broadcast_arrays(x, y, (x + y) // 2), -1).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for i in range(12):
        d.rectangle([300 * i, 200 + 150 * i, 300 * i + 500, 600 + 150 * i], fill=((i * 70) % 256, (i * 130) % 256, (i * 40) % 256))
        d.ellipse([3500 - 250 * i, 100 + 200 * i, 3900 - 250 * i, 400 + 200 * i], fill=(255 - i * 20, i * 20, 128))
    im.save(os.path.join(INPUTS, "large_4000x3000.png"))
    cs.file("large PNG 4000x3000", "large_4000x3000.png", [(384, 384, "bicubic")], store_decoded=False)
    im.save(os.path.join(INPUTS, "large_4000x3000.jpg"), quality=80)
    cs.file("large JPEG 4000x3000 (4:2:0, q80)", "large_4000x3000.jpg", [(384, 384, "bicubic")], store_decoded=False)


def other_format_cases(cs):
    # WebP, GIF, BMP, TIFF, AVIF, HEIC: test/fixtures/formats (scripts/gen-format-cases.py). ICO we do not read.
    Image.fromarray(noise(500, 9, 7)).save(os.path.join(INPUTS, "other.ico"), "ICO")
    cs.error("ICO file", "other.ico", "ICO")
    # Lossless WebP: our libwebp and a browser's createImageBitmap (useBrowserDecoder) must both give PIL's pixels.
    Image.fromarray(noise(501, 19, 13)).save(os.path.join(INPUTS, "browser_lossless.webp"), "WEBP", lossless=True)
    cs.file("WebP lossless", "browser_lossless.webp", [(7, 5, "bicubic")])


def main():
    warnings.simplefilter("ignore")  # PIL warns about palette transparency on convert("RGB"); expected here
    check_fixture()
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(INPUTS)
    cs = Cases()
    resize_cases(cs)
    png_cases(cs)
    jpeg_cases(cs)
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_helper(tmp)
        if exe:
            helper_cases(cs, exe, tmp)
    orientation_cases(cs)
    large_cases(cs)
    other_format_cases(cs)
    with open(os.path.join(OUT, "expected.bin.gz"), "wb") as f:
        f.write(gzip.compress(bytes(cs.blob), compresslevel=9, mtime=0))
    meta = {
        "generator": "scripts/gen-preprocess-cases.py",
        "pil_version": Image.__version__,
        "numpy_version": np.__version__,
        "reference": "load_image (Image.open, ImageOps.exif_transpose, convert('RGB')) then Image.resize((w, h), filter)",
        "expected": "expected.bin.gz: uint8 RGB rows, concatenated; offset/length per array",
        "synthetic pattern1": "r = ((x*7 + y*13) ^ ((x*y) >> 6)) & 255, g = ((x>>3)*11 + (y>>2)*5) & 255, b = (x ^ y) & 255",
        "cases": cs.cases,
    }
    json.dump(meta, open(os.path.join(OUT, "cases.json"), "w"), indent=1)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(cs.cases)} cases, {len(cs.blob)} expected bytes, {total / 1e6:.2f} MB on disk in {OUT}")


if __name__ == "__main__":
    main()
