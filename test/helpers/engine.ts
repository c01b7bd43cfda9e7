/** One engine per test file (a device per file keeps files independent; lavapipe devices are cheap to make). */
import { afterAll } from 'vitest';
import { createEngine, type Engine, type EngineOptions } from '../../src/ops/index.js';

/** Engines for tests run in poison mode: every output starts as NaN, so unwritten elements fail. */
export async function testEngine(opts: EngineOptions = {}): Promise<Engine> {
  const engine = await createEngine({ poison: true, ...opts });
  afterAll(() => engine.dispose());
  return engine;
}

