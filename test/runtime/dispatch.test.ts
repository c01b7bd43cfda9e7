/** Prepared calls: encoded by the one dispatch function, timed on the GPU clock where there is one, allocation-free. */
import { describe, expect, test } from 'vitest';
import { PreparedCalls } from '../../src/runtime/dispatch.js';
import { testEngine } from '../helpers/engine.js';
import { axpbyCall } from './graph-helpers.js';

const engine = await testEngine();

describe('prepared calls', () => {
  test('run and time again and again without creating a buffer, pipeline or bind group', async () => {
    const x = engine.tensor(new Float32Array(4096).fill(1), [4096]);
    const y = engine.empty([4096]);
    const z = engine.empty([4096]);
    const p = new PreparedCalls(engine, [axpbyCall(x, null, y, 2, 0), axpbyCall(y, x, z, 3, 1)], 'test');
    try {
      await p.time({ warmup: 1, reps: 1 });
      const before = { ...engine.stats };
      const t = await p.time({ warmup: 0, reps: 4 });
      p.submit();
      expect(engine.stats.buffersCreated).toBe(before.buffersCreated);
      expect(engine.stats.bindGroupsCreated).toBe(before.bindGroupsCreated);
      expect(engine.stats.pipelinesCreated).toBe(before.pipelinesCreated);
      expect(t.reps).toBe(4);
      expect(t.median_ms).toBeGreaterThan(0);
      expect(t.clock).toBe(engine.hasTimestamps ? 'timestamp' : 'wall');
      expect(Array.from((await z.read()).slice(0, 3))).toEqual([7, 7, 7]);
      expect(p.flops).toBe(2 * 2 * 4096);
    } finally {
      p.dispose();
    }
  });
});
