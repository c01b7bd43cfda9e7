// The CLI's download progress bar: drawn only on a terminal.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTtyProgress, formatBytes } from '../../../src/model/hub/progress.js';

function fakeStream(isTTY: boolean) {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  let out = '';
  (s as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(s, { isTTY, columns: 120, text: () => out });
  return s;
}

describe('createTtyProgress', () => {
  it('draws bytes, total and the bar on a TTY, and finishes the bar on done', async () => {
    const stream = fakeStream(true);
    const on = createTtyProgress(stream);
    on({ file: 'model.safetensors', loaded: 0, total: 2_000_000, done: false });
    await new Promise((r) => setTimeout(r, 300));
    on({ file: 'model.safetensors', loaded: 1_000_000, total: 2_000_000, done: false });
    on({ file: 'model.safetensors', loaded: 2_000_000, total: 2_000_000, done: true });
    await new Promise((r) => setImmediate(r));
    const text = stream.text();
    expect(text).toContain('model.safetensors');
    expect(text).toContain('2.00 MB/2.00 MB');
    expect(text).toContain('100%');
    expect(text).toMatch(/MB\/s|kB\/s/);
    expect(text).toContain('ETA');
  });

  it('is silent when the stream is not a TTY', async () => {
    const stream = fakeStream(false);
    const on = createTtyProgress(stream);
    on({ file: 'a', loaded: 5, total: 10, done: false });
    on({ file: 'a', loaded: 10, total: 10, done: true });
    await new Promise((r) => setImmediate(r));
    expect(stream.text()).toBe('');
  });

  it('formats sizes', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.50 kB');
    expect(formatBytes(812_345_678)).toBe('812 MB');
  });
});
