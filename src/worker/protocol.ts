/**
 * The messages between a page (client.ts) and the siglip-webgpu worker (host.ts), and how errors cross between
 * them: as the same classes, with the same messages and fields, so `e instanceof CheckpointError`, `e.file` or
 * `e.status` work on an error from the worker as on one thrown in the page.
 */
import { CheckpointError, InputError, NonFiniteOutputError } from '../model/errors.js';
import { StorageQuotaError } from '../model/hub/browser-storage.js';
import { CachePathError, UnsafeHubValueError } from '../model/hub/hub-names.js';
import { HubDownloadError, HubError, HubHttpError, HubUnreachableError } from '../model/hub/metadata.js';
import type { SiglipConfig } from '../model/config.js';
import type { Tower } from '../model/siglip-weights.js';
import type { LoadProgress } from '../model/weights.js';
import { ImageDecodeError } from '../model/image/types.js';
import type { AdapterDescription } from '../runtime/device.js';
import type { ActivationDType, ModelDType } from '../model/model-dtype.js';

/** The model calls a worker answers (SiglipModel's methods, plus embedImagesSettled). */
export type WorkerMethod =
  | 'embedImages'
  | 'embedTexts'
  | 'classify'
  | 'forward'
  | 'tokenize'
  | 'preprocess'
  | 'profile'
  | 'activationBytes'
  | 'embedImagesSettled';

export type ToWorker =
  | { type: 'load'; id: number; ref: unknown; opts: Record<string, unknown>; askPersist: boolean }
  | { type: 'call'; id: number; method: WorkerMethod; args: unknown[] }
  | { type: 'dispose'; id: number }
  /** The page's answer to an `ask`. */
  | { type: 'reply'; id: number; value: unknown }
  /** Tests: destroys the model's GPU device, as a lost device would (the next call reports it). */
  | { type: 'destroy-device'; id: number };

export type FromWorker =
  /** The worker's script ran and listens. */
  | { type: 'hello' }
  | { type: 'progress'; id: number; progress: LoadProgress }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError }
  /** The worker needs the page: persistent storage can be asked for only from a window. */
  | { type: 'ask'; id: number; question: 'persist' };

/** What the page knows about a model loaded in a worker. */
export interface WorkerModelInfo {
  config: SiglipConfig;
  dtype: ModelDType;
  activations: ActivationDType;
  towers: Tower[];
  loadSeconds: number;
  embedDim: number;
  weightBytes: number;
  adapter: AdapterDescription;
  /** The source's description: a base URL, "browser files", … */
  source: string;
  /** NaFlex models: the default patch budget per image (0 for fixed-resolution models). */
  maxNumPatches: number;
}

/** An error as it crosses: its class name, message, stack, own fields and cause. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own fields (file, tensor, status, needed, …): numbers, strings, booleans, null. */
  fields: Record<string, string | number | boolean | null>;
  /** Set when the error is a DOMException (AbortError, QuotaExceededError, …). */
  domException?: boolean;
  cause?: WireError;
}

/** The library's error classes, by the name they carry. */
const CLASSES: Record<string, { prototype: Error }> = {
  CheckpointError,
  InputError,
  NonFiniteOutputError,
  ImageDecodeError,
  HubError,
  HubHttpError,
  HubUnreachableError,
  HubDownloadError,
  UnsafeHubValueError,
  CachePathError,
  StorageQuotaError,
};

const BUILTIN: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

function isPlainValue(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Any thrown value → what crosses. */
export function toWire(e: unknown, depth = 0): WireError {
  if (!(e instanceof Error) && !(typeof DOMException !== 'undefined' && e instanceof DOMException)) {
    return { name: 'Error', message: typeof e === 'string' ? e : String(e), fields: {} };
  }
  const err = e as Error & { cause?: unknown };
  const fields: WireError['fields'] = {};
  for (const k of Object.keys(err)) {
    if (k === 'name' || k === 'message' || k === 'stack' || k === 'cause') continue;
    const v = (err as unknown as Record<string, unknown>)[k];
    if (isPlainValue(v)) fields[k] = v;
  }
  const wire: WireError = { name: err.name, message: err.message, fields };
  if (typeof err.stack === 'string') wire.stack = err.stack;
  if (typeof DOMException !== 'undefined' && e instanceof DOMException) wire.domException = true;
  if (err.cause !== undefined && depth < 4) wire.cause = toWire(err.cause, depth + 1);
  return wire;
}

/** What crossed → an error of the same class (the library's, a built-in one, or a DOMException). */
export function fromWire(w: WireError): Error {
  let e: Error;
  const cls = Object.hasOwn(CLASSES, w.name) ? CLASSES[w.name] : undefined;
  if (cls) {
    // Without running the constructor: the fields and message are the ones the worker's error had.
    e = Object.create(cls.prototype) as Error;
    Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true, enumerable: false });
    (e as { name: string }).name = w.name;
  } else if (w.domException && typeof DOMException !== 'undefined') {
    e = new DOMException(w.message, w.name) as unknown as Error;
  } else {
    const builtin = Object.hasOwn(BUILTIN, w.name) ? BUILTIN[w.name]! : Error;
    e = new builtin(w.message);
    if (!Object.hasOwn(BUILTIN, w.name)) e.name = w.name;
  }
  if (!(w.domException && e instanceof DOMException)) Object.assign(e, w.fields);
  Object.defineProperty(e, 'stack', {
    value: `${w.stack ?? `${w.name}: ${w.message}`}\n    (thrown in the siglip-webgpu worker)`,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (w.cause) Object.defineProperty(e, 'cause', { value: fromWire(w.cause), writable: true, configurable: true, enumerable: false });
  return e;
}

/** The buffers of the typed arrays in a result (walked to a small depth): handed over, not copied. Arrays that view
 *  part of a larger buffer are left to be copied (the rest of their buffer is not theirs to give away). */
export function transferablesOf(value: unknown, out: Transferable[] = [], depth = 0): Transferable[] {
  if (depth > 4 || value === null || typeof value !== 'object') return out;
  if (ArrayBuffer.isView(value)) {
    const b = value.buffer;
    if (b instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === b.byteLength && !out.includes(b)) out.push(b);
    return out;
  }
  if (typeof ImageBitmap !== 'undefined' && value instanceof ImageBitmap) {
    out.push(value);
    return out;
  }
  if (typeof Blob !== 'undefined' && value instanceof Blob) return out;
  for (const v of Array.isArray(value) ? value : Object.values(value)) transferablesOf(v, out, depth + 1);
  return out;
}
