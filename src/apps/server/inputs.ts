/**
 * Request bodies → checked items. Every field is validated with a message that names it (`input[3].image`), and
 * every size is bounded before anything proportional to it is allocated.
 *
 * /v1/embeddings `input`: a string, or an array whose items are strings, {"text": "…"} or {"image": "…"} (also
 * with "type": "text" | "image"). An image is a data URL (`data:image/png;base64,…`), bare base64, or an http(s)
 * URL from an allowed host (remote-image.ts).
 */
import { bad, ClientError } from './errors.js';
import { checkImageUrl } from './remote-image.js';

export type Item = { kind: 'text'; text: string; param: string } | { kind: 'image'; image: Uint8Array | URL; param: string };

export interface InputLimits {
  maxItems: number;
  maxTextChars: number;
  maxImageBytes: number;
  allowImageHosts: readonly string[];
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function requireObject(body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw bad('the request body must be a JSON object');
  return body;
}

export function checkText(x: unknown, param: string, limits: InputLimits): string {
  if (typeof x !== 'string') throw bad(`${param} must be a string, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`, param);
  if (x.length > limits.maxTextChars) throw new ClientError(413, `${param} has ${x.length} characters, over the limit of ${limits.maxTextChars}`, param, 'text_too_long');
  return x;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** An image field: bytes (data URL or base64) or an allowed URL, still to be fetched. */
export function parseImage(x: unknown, param: string, limits: InputLimits): Uint8Array | URL {
  if (typeof x !== 'string') throw bad(`${param} must be a string (a data URL, base64, or an http(s) URL), got ${x === null ? 'null' : typeof x}`, param);
  let b64 = x;
  if (/^data:/i.test(x)) {
    const comma = x.indexOf(',');
    if (comma < 0) throw bad(`${param}: malformed data URL (no comma)`, param, 'invalid_image');
    const head = x.slice(5, comma);
    if (!/;base64$/i.test(head)) throw bad(`${param}: data URL must be base64-encoded (data:image/png;base64,…)`, param, 'invalid_image');
    b64 = x.slice(comma + 1);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(x)) {
    return checkImageUrl(x, limits.allowImageHosts, param);
  }
  b64 = b64.replace(/\s+/g, '');
  if (b64.length === 0) throw bad(`${param}: empty image`, param, 'invalid_image');
  if ((b64.length * 3) / 4 > limits.maxImageBytes + 3) {
    throw new ClientError(413, `${param}: image is about ${Math.floor((b64.length * 3) / 4)} bytes, over the limit of ${limits.maxImageBytes}`, param, 'image_too_large');
  }
  if ((!BASE64.test(b64) && !BASE64URL.test(b64)) || b64.length % 4 === 1) {
    const at = [...b64].findIndex((c) => !/[A-Za-z0-9+/=_-]/.test(c));
    throw bad(`${param}: not valid base64${at >= 0 ? ` (character ${JSON.stringify(b64[at])} at ${at})` : ''}`, param, 'invalid_base64');
  }
  return new Uint8Array(Buffer.from(b64, BASE64.test(b64) ? 'base64' : 'base64url'));
}

function parseItem(x: unknown, param: string, limits: InputLimits): Item {
  if (typeof x === 'string') return { kind: 'text', text: checkText(x, param, limits), param };
  if (typeof x === 'number' || (Array.isArray(x) && x.every((v) => typeof v === 'number'))) {
    throw bad(`${param}: token-id inputs are not supported; send text`, param, 'unsupported_input');
  }
  if (!isObject(x)) throw bad(`${param} must be a string, {"text": …} or {"image": …}`, param);
  const type = x.type;
  if (type !== undefined && type !== 'text' && type !== 'image') throw bad(`${param}.type must be "text" or "image", got ${JSON.stringify(type)}`, `${param}.type`);
  const hasText = 'text' in x;
  const hasImage = 'image' in x;
  if (hasText === hasImage) throw bad(`${param} must have exactly one of "text" and "image"`, param);
  if (hasText) {
    if (type === 'image') throw bad(`${param}: type "image" with a "text" field`, param);
    return { kind: 'text', text: checkText(x.text, `${param}.text`, limits), param };
  }
  if (type === 'text') throw bad(`${param}: type "text" with an "image" field`, param);
  return { kind: 'image', image: parseImage(x.image, `${param}.image`, limits), param: `${param}.image` };
}

/** The `input` of /v1/embeddings. */
export function parseEmbeddingInput(input: unknown, limits: InputLimits): Item[] {
  if (input === undefined) throw bad('"input" is required', 'input');
  if (!Array.isArray(input)) return [parseItem(input, 'input', limits)];
  if (input.length === 0) throw bad('"input" is an empty array', 'input');
  if (input.length > limits.maxItems) throw new ClientError(413, `"input" has ${input.length} items, over the limit of ${limits.maxItems} per request`, 'input', 'too_many_items');
  if (input.every((v) => typeof v === 'number')) throw bad('input: token-id inputs are not supported; send text', 'input', 'unsupported_input');
  return input.map((x, i) => parseItem(x, `input[${i}]`, limits));
}
