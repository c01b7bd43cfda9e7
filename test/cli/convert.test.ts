/**
 * `siglip-webgpu convert` as a user runs it (the built CLI in a child process): the fixtures to every dtype, from a
 * directory and from the hub; what it prints; what it refuses (exit 2 for bad arguments, 1 for bad checkpoints);
 * and the converted file's header edited afterwards (a shape, the version, the digest) is refused by
 * readCompactScheme with the scheme's messages.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COMPACT_DIGEST_KEY, COMPACT_METADATA_KEY, isCompactTarget, readCompactScheme } from '../../src/model/compact-scheme.js';
import { CheckpointError } from '../../src/model/errors.js';
import { PACKAGE_VERSION } from '../../src/model/package-version.js';
import { readSafetensorsHeader, type StHeader } from '../../src/model/safetensors.js';
import { DirectorySource } from '../../src/model/source-node.js';
import { FIXTURES, readRawSafetensors, writeRawSafetensors } from '../helpers/fixtures.js';
import { startMockHub, type MockHub } from '../helpers/mock-hub.js';
import { buildCli, cli, spawnCli } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'cli-convert-'));
const tiny = join(FIXTURES, 'siglip-tiny');
let hub: MockHub;
let n = 0;
const outDir = () => join(tmp, `out${n++}`);

beforeAll(async () => {
  await buildCli();
  hub = await startMockHub({ models: { 'test-org/siglip-tiny': tiny } });
});
afterAll(async () => {
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function header(dir: string): Promise<StHeader> {
  return readSafetensorsHeader(new DirectorySource(dir), 'model.safetensors');
}

async function scheme(dir: string) {
  const h = await header(dir);
  return readCompactScheme(h.metadata, h.entries, join(dir, 'model.safetensors'));
}

/** The header JSON of `dir`'s model.safetensors rewritten by `edit` (the data kept), padded as the writer pads. */
function rewriteHeader(dir: string, edit: (json: string) => string): void {
  const path = join(dir, 'model.safetensors');
  const buf = readFileSync(path);
  const len = Number(buf.readBigUInt64LE(0));
  let json = edit(buf.subarray(8, 8 + len).toString('utf8').trimEnd());
  while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(json), buf.subarray(8 + len)]));
}

async function refused(dir: string): Promise<CheckpointError> {
  const e = await scheme(dir).then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(CheckpointError);
  expect((e as CheckpointError).file).toBe(join(dir, 'model.safetensors'));
  return e as CheckpointError;
}

function copyDir(from: string): string {
  const dir = join(tmp, `copy${n++}`);
  mkdirSync(dir);
  for (const f of readdirSync(from)) writeFileSync(join(dir, f), readFileSync(join(from, f)));
  return dir;
}

describe('siglip-webgpu convert', () => {
  test('--help lists it and its options', async () => {
    const top = await cli(['--help']);
    expect(top.stdout).toContain('convert');
    const r = await cli(['convert', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--model', '--dtype', '--group', '--out', '--force', '--json']) expect(r.stdout).toContain(flag);
  });

  const runs: Array<[string, string, string[]]> = [
    ['siglip-tiny', 'f16', []],
    ['siglip-tiny', 'int8', []],
    ['siglip-tiny', 'q4', []],
    ['siglip2-tiny', 'int8', ['--group', '32']],
    ['siglip2-naflex-tiny', 'q4', ['--group', '64']],
    ['siglip-odd', 'q4', []],
  ];
  for (const [fixture, dtype, extra] of runs) {
    test(`${fixture} → ${dtype} ${extra.join(' ')}`, async () => {
      const out = outDir();
      const r = await cli(['convert', '--model', join(FIXTURES, fixture), '--dtype', dtype, ...extra, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      // Off a terminal: plain progress lines on stderr, ending at 100 %; the summary on stdout.
      expect(r.stderr).toMatch(/^convert: 100% \(.* read, .* elapsed\)$/m);
      expect(r.stdout).toContain(`converted ${join(FIXTURES, fixture)} → ${out} (${dtype}`);
      expect(r.stdout).toMatch(/tensors: \d+ converted, \d+ kept as they were/);
      const m = /converted tensors: .* out, ([\d.]+)× of f32\n {2}checkpoint: (.*) in → (.*) out \(([\d.]+)×\)/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const ratio = Number(m![1]);
      const [lo, hi] = { f16: [0.5, 0.5], int8: [0.25, 0.29], q4: [0.14, 0.19] }[dtype]!;
      expect(ratio).toBeGreaterThanOrEqual(lo!);
      expect(ratio).toBeLessThanOrEqual(hi!);
      console.log(`${fixture} → ${dtype} ${extra.join(' ')}: converted tensors ${m![1]}× of f32; whole checkpoint ${m![2]} → ${m![3]} (${m![4]}×)`);
      const s = await scheme(out);
      expect(s!.dtype).toBe(dtype);
      expect(s!.writer).toBe(`siglip-webgpu ${PACKAGE_VERSION}`);
      const h = await header(out);
      const targets = [...readRawSafetensors(join(FIXTURES, fixture, 'model.safetensors'))].filter(([k, t]) => isCompactTarget(k, t.shape));
      expect(s!.tensors.size).toBe(targets.length);
      if (dtype === 'f16') {
        // A plain F16 checkpoint: the converted tensors are F16 in their own shapes, and nothing else was added.
        for (const [k, t] of targets) expect(h.entries.get(k), k).toMatchObject({ dtype: 'F16', shape: t.shape });
        expect([...h.entries.keys()].filter((k) => k.endsWith('.qscale'))).toEqual([]);
      }
    });
  }

  test('--json prints the summary as one object', async () => {
    const out = outDir();
    const r = await cli(['convert', '--model', tiny, '--dtype', 'int8', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ model: tiny, outDir: out, dtype: 'int8', group: 128 });
    expect(j.files).toContain('model.safetensors');
    expect(j.bytesOut).toBeLessThan(j.bytesIn);
  });

  test('from the hub (a model id) and from a URL', async () => {
    const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: join(tmp, 'hf'), HF_HUB_CACHE: undefined, HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined };
    const out = outDir();
    const r = await cli(['convert', '--model', 'test-org/siglip-tiny', '--dtype', 'q4', '--out', out], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('convert: downloaded model.safetensors');
    expect((await scheme(out))!.dtype).toBe('q4');
    const viaUrl = outDir();
    const r2 = await cli(['convert', '--model', `${hub.endpoint}/test-org/siglip-tiny/resolve/main/`, '--dtype', 'q4', '--out', viaUrl], env);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readFileSync(join(viaUrl, 'model.safetensors')).equals(readFileSync(join(out, 'model.safetensors')))).toBe(true);
  });

  test('bad arguments exit with 2 and say what is wrong', async () => {
    const out = join(tmp, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['convert', '--model', tiny, '--out', out], /required option '--dtype <dtype>' not specified/],
      [['convert', '--model', tiny, '--dtype', 'int4', '--out', out], /--dtype.*int4.*(choices|Allowed)/i],
      [['convert', '--dtype', 'int8', '--out', out], /required option '--model/],
      [['convert', '--model', tiny, '--dtype', 'int8'], /required option '--out/],
      [['convert', '--model', tiny, '--dtype', 'int8', '--group', '48', '--out', out], /--group for int8 must be one of 0, 32, 64, 128 \(0: one scale per output channel\), got "48"/],
      [['convert', '--model', tiny, '--dtype', 'q4', '--group', '0', '--out', out], /--group for q4 must be one of 32, 64, 128, got "0"/],
      [['convert', '--model', tiny, '--dtype', 'f16', '--group', '32', '--out', out], /--group does not apply to f16/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
    expect(existsSync(out)).toBe(false);
  });

  test('refuses a non-empty --out without --force, a converted checkpoint, and NaN weights (exit 1, nothing written)', async () => {
    const out = outDir();
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const r1 = await cli(['convert', '--model', tiny, '--dtype', 'int8', '--out', out]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`siglip-webgpu: ${out}: the output directory is not empty (notes.txt); pass --force (force: true) to replace what it holds`);
    expect(readdirSync(out)).toEqual(['notes.txt']);
    const r2 = await cli(['convert', '--model', tiny, '--dtype', 'int8', '--out', out, '--force']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readdirSync(out)).not.toContain('notes.txt');

    const r3 = await cli(['convert', '--model', out, '--dtype', 'q4', '--out', outDir()]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain(`${join(out, 'model.safetensors')}: already a converted checkpoint (int8 weights, written by siglip-webgpu ${PACKAGE_VERSION}); convert reads original F32, F16 or BF16 checkpoints — convert the original instead`);

    const bad = copyDir(tiny);
    const t = readRawSafetensors(join(bad, 'model.safetensors'));
    const w = new Float32Array(t.get('vision_model.encoder.layers.0.self_attn.v_proj.weight')!.bytes.slice().buffer);
    w[64 * 10 + 3] = NaN;
    t.get('vision_model.encoder.layers.0.self_attn.v_proj.weight')!.bytes = new Uint8Array(w.buffer);
    writeRawSafetensors(join(bad, 'model.safetensors'), t);
    const badOut = outDir();
    const r4 = await cli(['convert', '--model', bad, '--dtype', 'q4', '--out', badOut]);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('tensor vision_model.encoder.layers.0.self_attn.v_proj.weight: element [10, 3] is NaN; only finite weights can be converted');
    expect(existsSync(badOut)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  test('a converted file whose header is edited afterwards is refused with the scheme\'s messages', async () => {
    const out = outDir();
    expect((await cli(['convert', '--model', tiny, '--dtype', 'int8', '--out', out])).code).toBe(0);
    expect(await scheme(out)).not.toBeNull();
    const fc1 = 'text_model.encoder.layers.0.mlp.fc1.weight';

    // A shape edited in place, same header length and same byte count ([128, 64] → [64, 128]): the digest says so.
    const shape = copyDir(out);
    rewriteHeader(shape, (j) => {
      const from = `"${fc1}":{"dtype":"I8","shape":[128,64]`;
      expect(j).toContain(from);
      return j.replace(from, `"${fc1}":{"dtype":"I8","shape":[64,128]`);
    });
    const e1 = await refused(shape);
    expect(e1.field).toBe(COMPACT_DIGEST_KEY);
    expect(e1.message).toMatch(/__metadata__ siglip_webgpu\.digest: tampered header: the digest says sha256:[0-9a-f]{64}, the header hashes to sha256:[0-9a-f]{64} \(the header was edited after convert\); convert the checkpoint again/);

    // The version made 2 (a newer converter's file, as far as this build can tell).
    const v2 = copyDir(out);
    rewriteHeader(v2, (j) => {
      expect(j).toContain('\\"version\\":1');
      return j.replace('\\"version\\":1', '\\"version\\":2');
    });
    const e2 = await refused(v2);
    expect(e2.field).toBe(`${COMPACT_METADATA_KEY}.version`);
    expect(e2.message).toContain(`written with compact-weights scheme version 2 (by siglip-webgpu ${PACKAGE_VERSION}); this siglip-webgpu ${PACKAGE_VERSION} reads version(s) 1 — upgrade siglip-webgpu, or convert the checkpoint again`);

    // The digest dropped.
    const nodigest = copyDir(out);
    rewriteHeader(nodigest, (j) => {
      const o = JSON.parse(j);
      delete o.__metadata__[COMPACT_DIGEST_KEY];
      return JSON.stringify(o);
    });
    const e3 = await refused(nodigest);
    expect(e3.field).toBe(COMPACT_DIGEST_KEY);
    expect(e3.message).toContain('siglip_webgpu.digest: missing: a tampered header');

    // The scales of a tensor dropped, and the digest recomputed by someone who knew how: still refused, by name.
    const noscales = copyDir(out);
    const raw = readRawSafetensors(join(noscales, 'model.safetensors'));
    raw.delete(`${fc1}.qscale`);
    writeRawSafetensors(join(noscales, 'model.safetensors'), raw);
    const h = await readSafetensorsHeader(new DirectorySource(out), 'model.safetensors');
    const { compactDigest, digestRows } = await import('../../src/model/compact-scheme.js');
    const h2 = await header(noscales);
    const meta = { ...h.metadata, [COMPACT_DIGEST_KEY]: await compactDigest(h.metadata[COMPACT_METADATA_KEY]!, digestRows(h2.entries.values())) };
    rewriteHeader(noscales, (j) => JSON.stringify({ __metadata__: meta, ...JSON.parse(j) }));
    const e4 = await refused(noscales);
    expect(e4.tensor).toBe(`${fc1}.qscale`);
    expect(e4.message).toContain(`tensor ${fc1}.qscale: the scales of ${fc1} are missing from the file`);
  });

  test('Ctrl-C stops it mid-way and leaves nothing behind', async () => {
    // A slow server (4 kB every 15 ms): reading the tiny model's 1 MB takes seconds, so the signal lands mid-way.
    hub.setFault('model.safetensors', { chunkBytes: 4096, chunkDelayMs: 15 });
    try {
      const parent = join(tmp, 'sigint');
      mkdirSync(parent);
      const out = join(parent, 'out');
      const child = await spawnCli(['convert', '--model', `${hub.endpoint}/test-org/siglip-tiny/resolve/main/`, '--dtype', 'int8', '--out', out]);
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Wait until it is converting (its staging folder exists), then interrupt.
      // (Up to a minute: a CLI that starts on two busy cores can take seconds before its first request.)
      for (let i = 0; i < 2400 && child.exitCode === null && !readdirSync(parent).some((f) => f.startsWith('.out.convert-')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(readdirSync(parent).some((f) => f.startsWith('.out.convert-')), 'conversion started').toBe(true);
      child.kill('SIGINT');
      expect(await exited).toBe(1);
      expect(stderr).toContain('siglip-webgpu: interrupted: nothing was written to --out');
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      hub.setFault('model.safetensors', undefined);
    }
  });

  test('the f16 output loads with the engine as a plain checkpoint and gives the same embeddings within f16 error', async () => {
    const out = outDir();
    expect((await cli(['convert', '--model', tiny, '--dtype', 'f16', '--out', out])).code).toBe(0);
    const args = ['embed', '--text', 'a photo of a cat', '--image', join(FIXTURES, 'images/cats.png'), '--json'];
    const a = await cli([...args, '--model', tiny]);
    const b = await cli([...args, '--model', out]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ja = JSON.parse(a.stdout);
    const jb = JSON.parse(b.stdout);
    for (const key of Object.keys(ja).filter((k) => Array.isArray(ja[k]))) {
      const x = (ja[key] as number[][]).flat();
      const y = (jb[key] as number[][]).flat();
      expect(y.length).toBe(x.length);
      let dot = 0;
      for (let i = 0; i < x.length; i++) dot += x[i]! * y[i]!;
      // Both are L2-normalized: the dot product is the cosine.
      expect(dot, `${key}: cosine of f16-converted vs f32`).toBeGreaterThan(0.9999);
    }
  });
});
