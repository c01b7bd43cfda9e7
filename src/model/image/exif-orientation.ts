/**
 * EXIF orientation, as transformers applies it: `load_image` (image_utils.py, v4.44.2) calls
 * `PIL.ImageOps.exif_transpose(image)` before `image.convert("RGB")`, and the pipelines load images that way.
 * (`SiglipImageProcessor` itself, handed a PIL image, does not look at EXIF.)
 *
 * Which tag PIL 9.4 reads: `Image.getexif()[0x0112]` from IFD0 of the EXIF block — JPEG: the first APP1 "Exif"
 * segment; PNG: the eXIf chunk, a "Raw profile type exif" text chunk (ImageMagick), and failing those an XMP packet
 * (`tiff:Orientation="N"` or `<tiff:Orientation>N</tiff:Orientation>` in the "XML:com.adobe.xmp" text chunk).
 * Values 2–8 transpose the image; anything else (1, absent, malformed) leaves it as is. Where PIL would raise on a
 * malformed EXIF header we simply ignore it.
 */
import type { RgbImage } from './types.js';

/** Orientation tag from an EXIF block (with or without the "Exif\0\0" prefix); null when absent or malformed. */
export function readExifOrientation(exif: Uint8Array | null): number | null {
  if (!exif) return null;
  let d = exif;
  if (d.length >= 6 && d[0] === 0x45 && d[1] === 0x78 && d[2] === 0x69 && d[3] === 0x66 && d[4] === 0 && d[5] === 0) {
    d = d.subarray(6);
  }
  if (d.length < 8) return null;
  const little = d[0] === 0x49 && d[1] === 0x49;
  if (!little && !(d[0] === 0x4d && d[1] === 0x4d)) return null;
  const u16 = (p: number) => (little ? d[p] | (d[p + 1] << 8) : (d[p] << 8) | d[p + 1]);
  const u32 = (p: number) => (little ? (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16)) + d[p + 3] * 2 ** 24 : d[p] * 2 ** 24 + ((d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]));
  const magic = u16(2);
  if (magic !== 42 && magic !== 43) return null;
  const ifd = u32(4);
  if (ifd + 2 > d.length) return null;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > d.length) return null;
    if (u16(e) !== 0x0112) continue;
    const type = u16(e + 2);
    if (u32(e + 4) !== 1) return null;
    // The value sits in the entry itself for these sizes; read it with the stored type, as PIL does.
    if (type === 3) return u16(e + 8); // SHORT (the normal case)
    if (type === 4) return u32(e + 8); // LONG
    if (type === 1) return d[e + 8]; // BYTE
    return null;
  }
  return null;
}

/** PIL 9.4 `getexif` fallback for PNG: `re.search(r'tiff:Orientation(="|>)([0-9])', xmp)`. */
export function readXmpOrientation(xmp: string | null): number | null {
  if (!xmp) return null;
  const m = /tiff:Orientation(="|>)([0-9])/.exec(xmp);
  return m ? Number(m[2]) : null;
}

/**
 * Applies an orientation the way `exif_transpose` does: 2 mirror, 3 rotate 180°, 4 flip vertically,
 * 5 transpose, 6 rotate 90° clockwise (PIL ROTATE_270), 7 transverse, 8 rotate 90° counter-clockwise (ROTATE_90).
 */
export function applyOrientation(img: RgbImage, orientation: number | null): RgbImage {
  if (orientation === null || orientation < 2 || orientation > 8) return img;
  const { width: W, height: H, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? H : W;
  const oh = swap ? W : H;
  const out = new Uint8Array(data.length);
  // Source (sx, sy) of output (x, y) = (ax·x + bx·y + cx, ay·x + by·y + cy).
  const [ax, bx, cx, ay, by, cy] = (
    {
      2: [-1, 0, W - 1, 0, 1, 0],
      3: [-1, 0, W - 1, 0, -1, H - 1],
      4: [1, 0, 0, 0, -1, H - 1],
      5: [0, 1, 0, 1, 0, 0],
      6: [0, 1, 0, -1, 0, H - 1],
      7: [0, -1, W - 1, -1, 0, H - 1],
      8: [0, -1, W - 1, 1, 0, 0],
    } as Record<number, number[]>
  )[orientation];
  let o = 0;
  for (let y = 0; y < oh; y++) {
    let sx = bx * y + cx;
    let sy = by * y + cy;
    for (let x = 0; x < ow; x++, o += 3, sx += ax, sy += ay) {
      const s = (sy * W + sx) * 3;
      out[o] = data[s];
      out[o + 1] = data[s + 1];
      out[o + 2] = data[s + 2];
    }
  }
  return { width: ow, height: oh, data: out };
}
