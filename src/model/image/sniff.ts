/**
 * Identifies an image format from its first bytes (never from a file name or MIME type, which lie), so that
 * anything we cannot decode gets an error naming what it is.
 */
export type ImageFormat =
  | 'png'
  | 'jpeg'
  | 'webp'
  | 'gif'
  | 'bmp'
  | 'tiff'
  | 'avif'
  | 'heic'
  | 'ico'
  | 'jpeg2000'
  | 'jpegxl'
  | 'svg'
  | 'pdf'
  | 'unknown';

/** Formats a browser can usually decode through createImageBitmap (not bit-exact with PIL): used for ICO, and for
 *  the others only with the `useBrowserDecoder` option. */
export const BROWSER_DECODABLE: ReadonlySet<ImageFormat> = new Set(['webp', 'gif', 'bmp', 'avif', 'ico', 'png', 'jpeg']);

const ascii = (b: Uint8Array, start: number, s: string) =>
  b.length >= start + s.length && [...s].every((ch, i) => b[start + i] === ch.charCodeAt(0));

export function sniffFormat(b: Uint8Array): ImageFormat {
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 'PNG\r\n\x1a\n')) return 'png';
  // PIL's JPEG plugin accepts files starting FF D8 FF.
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'webp';
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return 'gif';
  if (ascii(b, 0, 'BM') && b.length >= 26) return 'bmp';
  if (ascii(b, 0, 'II*\0') || ascii(b, 0, 'MM\0*')) return 'tiff';
  if (ascii(b, 4, 'ftyp')) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) return 'ico';
  if (ascii(b, 4, 'jP  ') || (b.length >= 4 && b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)) {
    return 'jpeg2000';
  }
  if ((b.length >= 2 && b[0] === 0xff && b[1] === 0x0a) || ascii(b, 4, 'JXL ')) return 'jpegxl';
  if (ascii(b, 0, '%PDF')) return 'pdf';
  const head = new TextDecoder('latin1').decode(b.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
  return 'unknown';
}
