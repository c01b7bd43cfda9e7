/**
 * First pass over a JPEG file: the marker segments, without decoding anything. It finds the frame header (size,
 * components, sampling) so the size limit is checked before any pixel memory is allocated, the metadata PIL and
 * libjpeg look at (first APP1 "Exif", JFIF APP0, Adobe APP14 transform), and where each scan's entropy-coded data
 * ends, which tells a truncated file from a complete one up front.
 */
import { findMarker } from './jpeg-bits.js';
import { checkDimensions, ImageDecodeError } from './types.js';

export interface JpegSegment {
  marker: number; // 0xC0..0xFE
  start: number; // payload (after the 2-byte length)
  end: number;
  /** SOS only: end of the entropy-coded data that follows the header. */
  dataEnd?: number;
}

export interface JpegFrameHeader {
  marker: number;
  precision: number;
  width: number;
  height: number;
  components: { id: number; h: number; v: number; tq: number }[];
}

export interface JpegStructure {
  segments: JpegSegment[];
  frame: JpegFrameHeader;
  exif: Uint8Array | null;
  sawJfif: boolean;
  adobeTransform: number | null;
}

const UNSUPPORTED_SOF: Record<number, string> = {
  0xc3: 'lossless',
  0xc5: 'hierarchical',
  0xc6: 'hierarchical progressive',
  0xc7: 'hierarchical lossless',
  0xcb: 'arithmetic-coded lossless',
  0xcd: 'hierarchical arithmetic-coded',
  0xce: 'hierarchical arithmetic-coded progressive',
  0xcf: 'hierarchical arithmetic-coded lossless',
};

const truncated = (where: string) => new ImageDecodeError(`jpeg: file is truncated (${where})`);

function parseFrame(data: Uint8Array, seg: JpegSegment, maxPixels: number): JpegFrameHeader {
  const p = seg.start;
  if (seg.end - p < 6) throw new ImageDecodeError('jpeg: corrupt frame header (SOF too short)');
  const precision = data[p];
  const height = (data[p + 1] << 8) | data[p + 2];
  const width = (data[p + 3] << 8) | data[p + 4];
  const n = data[p + 5];
  if (precision !== 8) throw new ImageDecodeError(`jpeg: ${precision}-bit samples are not supported (PIL reads only 8-bit JPEG)`);
  if (height === 0) throw new ImageDecodeError('jpeg: image height 0 in the frame header (DNL-defined height is not supported)');
  checkDimensions('jpeg', width, height, maxPixels);
  if (n !== 1 && n !== 3 && n !== 4) throw new ImageDecodeError(`jpeg: ${n}-component images are not supported (1, 3 or 4 only, as PIL)`);
  if (seg.end - p < 6 + 3 * n) throw new ImageDecodeError('jpeg: corrupt frame header (SOF too short)');
  const components = [];
  for (let i = 0; i < n; i++) {
    const q = p + 6 + 3 * i;
    const h = data[q + 1] >> 4;
    const v = data[q + 1] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new ImageDecodeError(`jpeg: corrupt frame header (sampling factors ${h}×${v})`);
    if (data[q + 2] > 3) throw new ImageDecodeError('jpeg: corrupt frame header (quantization table index > 3)');
    components.push({ id: data[q], h, v, tq: data[q + 2] });
  }
  return { marker: seg.marker, precision, width, height, components };
}

const startsWith = (data: Uint8Array, p: number, end: number, sig: number[]) =>
  end - p >= sig.length && sig.every((b, i) => data[p + i] === b);

const EXIF_SIG = [0x45, 0x78, 0x69, 0x66, 0]; // "Exif\0", as PIL tests it
const JFIF_SIG = [0x4a, 0x46, 0x49, 0x46, 0]; // "JFIF\0"
const ADOBE_SIG = [0x41, 0x64, 0x6f, 0x62, 0x65]; // "Adobe"

export function readJpegStructure(data: Uint8Array, maxPixels: number): JpegStructure {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) throw new ImageDecodeError('jpeg: missing SOI marker');
  const segments: JpegSegment[] = [];
  let frame: JpegFrameHeader | null = null;
  let exif: Uint8Array | null = null;
  let sawJfif = false;
  let adobeTransform: number | null = null;
  let sawScan = false;
  let pos = 2;
  for (;;) {
    const m = findMarker(data, pos);
    if (m < 0) {
      if (!frame || !sawScan) throw truncated('it ends before the image data');
      // libjpeg needs EOI to finish a progressive (multi-scan) image; a sequential one is complete without it.
      if (frame.marker === 0xc2 || frame.marker === 0xca) throw truncated('no end-of-image marker after the last scan');
      break;
    }
    const code = data[m + 1];
    pos = m + 2;
    if (code === 0xd9) break; // EOI
    if (code === 0xd8) throw new ImageDecodeError('jpeg: corrupt file (second SOI marker)');
    if ((code >= 0xd0 && code <= 0xd7) || code === 0x01) continue; // parameterless, ignored by libjpeg here
    if (pos + 2 > data.length) throw truncated('inside a marker segment');
    const len = (data[pos] << 8) | data[pos + 1];
    if (len < 2) throw new ImageDecodeError(`jpeg: corrupt marker segment length ${len}`);
    if (pos + len > data.length) throw truncated('inside a marker segment');
    const seg: JpegSegment = { marker: code, start: pos + 2, end: pos + len };
    pos = seg.end;
    if (UNSUPPORTED_SOF[code]) {
      throw new ImageDecodeError(`jpeg: ${UNSUPPORTED_SOF[code]} JPEG is not supported (baseline and progressive Huffman only)`);
    }
    if ((code >= 0xc0 && code <= 0xc2) || code === 0xc9 || code === 0xca) {
      if (frame) throw new ImageDecodeError('jpeg: corrupt file (more than one frame header)');
      frame = parseFrame(data, seg, maxPixels);
    } else if (code === 0xda) {
      if (!frame) throw new ImageDecodeError('jpeg: corrupt file (scan before frame header)');
      sawScan = true;
      // Entropy-coded data runs to the next marker other than RSTn.
      let q = seg.end;
      for (;;) {
        const n = findMarker(data, q);
        if (n < 0) {
          q = data.length;
          break;
        }
        if (data[n + 1] >= 0xd0 && data[n + 1] <= 0xd7) {
          q = n + 2;
          continue;
        }
        q = n;
        break;
      }
      seg.dataEnd = q;
      pos = q;
    } else if (!sawScan && code === 0xe1 && exif === null && startsWith(data, seg.start, seg.end, EXIF_SIG)) {
      exif = data.subarray(seg.start, seg.end); // PIL keeps the first APP1 "Exif" segment before the first scan
    } else if (!sawScan && code === 0xe0 && seg.end - seg.start >= 14 && startsWith(data, seg.start, seg.end, JFIF_SIG)) {
      sawJfif = true;
    } else if (!sawScan && code === 0xee && seg.end - seg.start >= 12 && startsWith(data, seg.start, seg.end, ADOBE_SIG)) {
      adobeTransform = data[seg.start + 11];
    }
    segments.push(seg);
  }
  if (!frame) throw new ImageDecodeError('jpeg: no frame header (SOF) found');
  if (!sawScan) throw new ImageDecodeError('jpeg: no image data (no SOS marker)');
  return { segments, frame, exif, sawJfif, adobeTransform };
}
