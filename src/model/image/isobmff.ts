/**
 * The few ISO-BMFF (HEIF/AVIF) boxes we read ourselves: the primary item's size (`ispe`, checked against the pixel
 * limit before a decoder allocates anything) and its rotation and mirror (`irot`, `imir`).
 */
import { ImageDecodeError } from './types.js';

export interface HeifItemInfo {
  width: number;
  height: number;
  /** Anticlockwise quarter turns (irot), or 0. */
  irot: number;
  /** Mirror mode (imir: 0 top-to-bottom, 1 left-to-right), or null. */
  imir: number | null;
}

interface Box {
  type: string;
  start: number; // payload start
  end: number;
}

function boxes(b: Uint8Array, start: number, end: number, format: string): Box[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Box[] = [];
  for (let p = start; p + 8 <= end; ) {
    let size = v.getUint32(p);
    let header = 8;
    if (size === 1) {
      if (p + 16 > end) break;
      size = Number(v.getBigUint64(p + 8));
      header = 16;
    } else if (size === 0) size = end - p;
    if (size < header || p + size > end) throw new ImageDecodeError(`${format}: corrupt or truncated box at byte ${p}`);
    out.push({ type: String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]), start: p + header, end: p + size });
    p += size;
  }
  return out;
}

export function readHeifItemInfo(b: Uint8Array, format: string): HeifItemInfo {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const meta = boxes(b, 0, b.length, format).find((x) => x.type === 'meta');
  if (!meta) throw new ImageDecodeError(`${format}: no meta box (not a still image, or truncated)`);
  const inner = boxes(b, meta.start + 4, meta.end, format); // meta is a full box: version and flags first
  const pitm = inner.find((x) => x.type === 'pitm');
  const iprp = inner.find((x) => x.type === 'iprp');
  if (!pitm || !iprp) throw new ImageDecodeError(`${format}: no primary item or item properties`);
  const primary = b[pitm.start] === 0 ? v.getUint16(pitm.start + 4) : v.getUint32(pitm.start + 4);
  const props = boxes(b, iprp.start, iprp.end, format);
  const ipco = props.find((x) => x.type === 'ipco');
  if (!ipco) throw new ImageDecodeError(`${format}: no item property container`);
  const list = boxes(b, ipco.start, ipco.end, format);
  const info: HeifItemInfo = { width: 0, height: 0, irot: 0, imir: null };
  for (const ipma of props.filter((x) => x.type === 'ipma')) {
    const version = b[ipma.start];
    const wide = b[ipma.start + 3] & 1;
    let p = ipma.start + 4;
    const count = v.getUint32(p);
    p += 4;
    for (let i = 0; i < count && p < ipma.end; i++) {
      const item = version < 1 ? v.getUint16(p) : v.getUint32(p);
      p += version < 1 ? 2 : 4;
      const n = b[p++];
      for (let k = 0; k < n && p < ipma.end; k++) {
        const index = wide ? v.getUint16(p) & 0x7fff : b[p] & 0x7f;
        p += wide ? 2 : 1;
        if (item !== primary || index === 0 || index > list.length) continue;
        const prop = list[index - 1];
        if (prop.type === 'ispe' && prop.start + 12 <= prop.end) {
          info.width = v.getUint32(prop.start + 4);
          info.height = v.getUint32(prop.start + 8);
        } else if (prop.type === 'irot' && prop.start < prop.end) info.irot = b[prop.start] & 3;
        else if (prop.type === 'imir' && prop.start < prop.end) info.imir = b[prop.start] & 1;
      }
    }
  }
  if (!info.width || !info.height) throw new ImageDecodeError(`${format}: the primary image has no size (ispe)`);
  return info;
}

/** irot/imir as the EXIF orientation that shows the same thing (libavif's and Pillow's mapping). */
export function irotImirToOrientation(irot: number, imir: number | null): number {
  if (imir === null) return [1, 8, 3, 6][irot];
  return imir === 0 ? [4, 5, 2, 7][irot] : [2, 7, 4, 5][irot];
}
