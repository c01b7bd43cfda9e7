// The real CLI with random arguments: hostile values (empty, negative, huge, NaN, ../ paths, revisions with ..,
// long and non-ASCII strings, missing files, directories) for every flag of the model commands. Each run must end
// with exit code 0, 1 or 2 and a message — never a crash (signal), a stack trace, a hang, or a NaN in the output.
// Runs offline, with an empty hub cache, on copies of the fixtures in a temporary folder, from a folder three levels
// inside it: every path a run may write (--out, "../../x") lands inside that folder, never on the repository's
// fixtures (a run once wrote a safetensors file over images/cats.png) or elsewhere on the machine.
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { fc, fuzzParams } from '../helpers/fuzz.js';
import { cli } from './helpers.js';

const work = await mkdtemp(join(tmpdir(), 'cli-fuzz-'));
afterAll(() => rm(work, { recursive: true, force: true }));
const cwd = join(work, 'a', 'b', 'c');
await mkdir(cwd, { recursive: true });
const TINY = join(work, 'siglip-tiny');
const CATS = join(work, 'cats.png');
await cp(join(FIXTURES, 'siglip-tiny'), TINY, { recursive: true });
await cp(join(FIXTURES, 'images', 'cats.png'), CATS);
const value = fc.oneof(
  fc.constantFrom(TINY, TINY, CATS, CATS, join(TINY, 'reference.safetensors'), 'out.safetensors', '', '-1', '0', '3', '1e309', 'NaN', '../../x', 'org/x@../../y', 'org/x', '🐈 猫', 'a,b,,c', '{}', 'f16', 'f32', work, 'missing/file.png'),
  fc.stringMatching(/^[ -~]{0,12}$/),
  fc.constant('x'.repeat(5000)),
);
const flag = fc.constantFrom('--model', '--labels', '--text', '--image', '--dtype', '--batch', '--out', '--inputs', '--template', '--json', '--hidden-states', '--seed', '--config', '--group', '--bogus');
/** Anything at all. */
const randomArgs = fc.tuple(
  fc.constantFrom('classify', 'embed', 'tokenize', 'preprocess', 'forward', 'convert', 'info', 'nosuch'),
  fc.array(fc.oneof(flag, value, fc.tuple(flag, value).map((p) => p.join('='))), { maxLength: 7 }),
);
/** Well-formed invocations with hostile values: these get past argument parsing into loading and running. */
const maybe = (v: fc.Arbitrary<string>, fallback: string) => fc.oneof(fc.constant(fallback), fc.constant(fallback), v);
const nearValid = fc.oneof(
  fc.tuple(maybe(value, CATS), maybe(value, '2 cats,2 dogs'), maybe(value, TINY), maybe(value, 'a photo of {}.'), maybe(value, '2')).map(
    ([img, labels, model, template, batch]) => ['classify', img, '--labels', labels, '--model', model, '--template', template, '--batch', batch, '--json'],
  ),
  fc.tuple(fc.constantFrom('--text', '--image'), maybe(value, 'a cat'), maybe(value, TINY)).map(([kind, v, model]) => ['embed', kind, v, '--model', model, '--json']),
  fc.tuple(maybe(value, 'a cat'), maybe(value, TINY)).map(([text, model]) => ['tokenize', '--model', model, '--text', text, '--json']),
  fc.tuple(maybe(value, CATS), maybe(value, 'pv.safetensors')).map(([img, out]) => ['preprocess', '--model', TINY, '--image', img, '--out', out]),
  fc.tuple(maybe(value, join(TINY, 'reference.safetensors')), maybe(value, 'fw.safetensors')).map(([inp, out]) => ['forward', '--model', TINY, '--inputs', inp, '--out', out]),
  // No --force here: with a hostile --out it would replace what that folder holds, by design.
  fc.tuple(maybe(value, TINY), maybe(fc.oneof(value, fc.constantFrom('f16', 'int8', 'q4')), 'q4'), maybe(value, '32'), maybe(value, 'converted')).map(([model, dtype, group, out]) => ['convert', '--model', model, '--dtype', dtype, '--group', group, '--out', out]),
);
const args = fc.oneof(randomArgs, nearValid.map((a) => [a[0]!, a.slice(1)] as [string, string[]]));

describe('CLI argument fuzz', () => {
  it('random arguments: exit 0, 1 or 2 with a message; no crash, stack trace or NaN', async () => {
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(args, async ([command, rest]) => {
        const r = await cli([command, ...rest], { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: join(work, 'hub'), HF_HOME: join(work, 'hf') }, { cwd, timeoutMs: 60_000 });
        const what = `siglip-webgpu ${[command, ...rest].map((a) => JSON.stringify(a.slice(0, 60))).join(' ')}\n${r.stderr.slice(0, 2000)}`;
        expect(r.signal, what).toBeUndefined();
        expect([0, 1, 2], what).toContain(r.code);
        expect(r.stderr, what).not.toMatch(/^\s+at .*[(:]\d+/m);
        expect(r.stderr, what).not.toMatch(/\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/);
        // A NaN the CLI computed, not one it echoes: labels and texts given as "NaN" come back as they were given.
        const echoed = rest.flatMap((a) => [a, ...a.split(',').map((x) => x.trim())]).filter((x) => x.length > 0).sort((a, b) => b.length - a.length);
        const computed = echoed.reduce((out, x) => out.split(JSON.stringify(x)).join('""').split(x).join(''), r.stdout);
        if (r.code === 0) expect(computed, what).not.toMatch(/\bNaN\b|"score":\s*null/);
        else expect(r.stderr.trim().length, what).toBeGreaterThan(0);
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      }),
      fuzzParams('CLI fuzz', 30, 60_000),
    );
    console.log(`[CLI fuzz] exit codes: ${JSON.stringify(Object.fromEntries(codes))}`);
  });
});
