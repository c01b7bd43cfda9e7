/** Dynamic batching on its own (no GPU): coalescing, the wait bound, order, aborts, failures. */
import { describe, expect, test } from 'vitest';
import { DynamicBatcher } from '../../src/apps/batcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(delayMs = 5) {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    await sleep(delayMs);
    return items.map((x) => x * 10);
  };
  return { batches, run };
}

describe('DynamicBatcher', () => {
  test('concurrent submissions share passes of at most maxBatch, results in order', async () => {
    const { batches, run } = recorder(20);
    const b = new DynamicBatcher(run, { maxBatch: 4, maxWaitMs: 10 });
    const res = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit([i, 100 + i])));
    res.forEach((r, i) => expect(r).toEqual([i * 10, (100 + i) * 10]));
    expect(batches.every((x) => x.length <= 4)).toBe(true);
    expect(batches.flat().sort((x, y) => x - y)).toEqual([...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
    expect(batches.length).toBe(5);
  });

  test('a lone item waits at most maxWaitMs; a full batch does not wait', async () => {
    const { run } = recorder(0);
    const b = new DynamicBatcher(run, { maxBatch: 3, maxWaitMs: 80 });
    let t0 = performance.now();
    await b.submit([1]);
    const lone = performance.now() - t0;
    expect(lone).toBeGreaterThanOrEqual(75);
    expect(lone).toBeLessThan(1000);
    t0 = performance.now();
    await b.submit([1, 2, 3]);
    expect(performance.now() - t0).toBeLessThan(60);
  });

  test('maxWaitMs 0: a lone item starts at once; items arriving during a pass share the next one', async () => {
    const { batches, run } = recorder(30);
    const b = new DynamicBatcher(run, { maxBatch: 8, maxWaitMs: 0 });
    const first = b.submit([0]);
    await sleep(5);
    const rest = Promise.all([1, 2, 3, 4, 5].map((x) => b.submit([x])));
    expect(await first).toEqual([0]);
    expect((await rest).flat()).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5]]);
  });

  test('an aborted request leaves the queue; a failing pass rejects only its items', async () => {
    const { batches, run } = recorder(0);
    const b = new DynamicBatcher(run, { maxBatch: 8, maxWaitMs: 50 });
    const ctl = new AbortController();
    const gone = b.submit([1, 2], ctl.signal);
    const kept = b.submit([3]);
    ctl.abort(new Error('timed out'));
    await expect(gone).rejects.toThrow('timed out');
    expect(await kept).toEqual([30]);
    expect(batches).toEqual([[3]]);
    const failing = new DynamicBatcher(async (xs: number[]) => {
      if (xs.includes(13)) throw new Error('device lost');
      return xs;
    }, { maxBatch: 1, maxWaitMs: 0 });
    await expect(failing.submit([13])).rejects.toThrow('device lost');
    expect(await failing.submit([7])).toEqual([7]);
  });
});
