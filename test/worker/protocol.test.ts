// Errors crossing between a page and the worker (src/worker/protocol.ts), in Node: every typed error of the library
// comes back as its class with its message and fields; built-in errors, DOMExceptions, causes and thrown
// non-errors too. (The real crossing, through postMessage in Chromium: test/browser/worker.test.ts.)
import { describe, expect, it } from 'vitest';
import { CheckpointError, InputError, NonFiniteOutputError } from '../../src/model/errors.js';
import { StorageQuotaError } from '../../src/model/hub/browser-storage.js';
import { CachePathError, UnsafeHubValueError } from '../../src/model/hub/hub-names.js';
import { HubDownloadError, HubHttpError, HubUnreachableError } from '../../src/model/hub/metadata.js';
import { ImageDecodeError } from '../../src/model/image/types.js';
import { fromWire, toWire, transferablesOf } from '../../src/worker/protocol.js';

/** Through structured clone, as postMessage sends it. */
const cross = (e: unknown) => fromWire(structuredClone(toWire(e)));

const own = (e: object) => Object.fromEntries(Object.keys(e).map((k) => [k, (e as Record<string, unknown>)[k]]));

describe('errors cross as the same classes', () => {
  const cases: [string, Error][] = [
    ['CheckpointError', new CheckpointError('config.json: bad', { file: 'config.json', field: 'vision_config.hidden_size', tensor: 'x' })],
    ['InputError', new InputError('no labels')],
    ['NonFiniteOutputError', new NonFiniteOutputError('vision', 'image_embeds', 3, NaN)],
    ['ImageDecodeError', new ImageDecodeError('a.jpg: jpeg: file is truncated')],
    ['HubHttpError', new HubHttpError('401 for org/x', 401, 'GatedRepo')],
    ['HubUnreachableError', new HubUnreachableError('offline')],
    ['HubDownloadError', new HubDownloadError('bad hash')],
    ['UnsafeHubValueError', new UnsafeHubValueError('../x', 'commit id', 'X-Repo-Commit', 'not hex')],
    ['CachePathError', new CachePathError('/c/a', '/etc/a', '/c')],
    ['StorageQuotaError', new StorageQuotaError('too big', 'https://h/m', 10, 5, 100, 95, false)],
  ];
  it.each(cases)('%s: class, name, message, fields, stack', (_, e) => {
    const back = cross(e);
    expect(back).toBeInstanceOf(e.constructor);
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe(e.name);
    expect(back.message).toBe(e.message);
    expect(own(back)).toEqual(own(e));
    expect(back.stack).toContain(e.message);
    expect(back.stack).toMatch(/thrown in the siglip-webgpu worker/);
  });

  it('NaN and Infinity in fields survive (structured clone keeps them)', () => {
    const back = cross(new NonFiniteOutputError('text', 'pooler_output', 0, -Infinity)) as NonFiniteOutputError;
    expect(back.value).toBe(-Infinity);
  });

  it('built-in errors, DOMExceptions, causes, and thrown non-errors', () => {
    const t = cross(new TypeError('x is not a function'));
    expect(t).toBeInstanceOf(TypeError);
    expect(t.message).toBe('x is not a function');
    const d = cross(new DOMException('no room', 'QuotaExceededError'));
    expect(d).toBeInstanceOf(DOMException);
    expect(d.name).toBe('QuotaExceededError');
    const withCause = cross(new HubDownloadError('failed', { cause: new InputError('inner') }));
    expect((withCause as Error & { cause: Error }).cause).toBeInstanceOf(InputError);
    expect((withCause as Error & { cause: Error }).cause.message).toBe('inner');
    const custom = new Error('custom');
    custom.name = 'MyError';
    expect(cross(custom)).toMatchObject({ name: 'MyError', message: 'custom' });
    expect(cross('a string')).toMatchObject({ name: 'Error', message: 'a string' });
    // A name of the library's that is not a class name cannot pick a prototype: Object's own keys are not classes.
    expect(fromWire({ name: 'constructor', message: 'm', fields: {} })).toBeInstanceOf(Error);
  });
});

describe('transferablesOf', () => {
  it('hands over whole buffers, once, and leaves views of part of a buffer', () => {
    const a = new Float32Array(4);
    const big = new ArrayBuffer(64);
    const part = new Uint8Array(big, 8, 8);
    const list = transferablesOf({ a, again: a, nested: [{ b: new Int32Array(2) }], part, n: 1, s: 'x' });
    expect(list).toHaveLength(2);
    expect(list).toContain(a.buffer);
  });
});
