/**
 * `convert --model SRC --dtype f16|int8|q4 [--group N] --out DIR [--force]`: a compact copy of a checkpoint
 * (src/model/convert-node.ts). Progress on stderr: a bar on a terminal, otherwise a plain line every few seconds and
 * at the end; the summary on stdout (JSON with --json).
 */
import cliProgress from 'cli-progress';
import { COMPACT_DEFAULT_GROUP, COMPACT_GROUPS } from '../model/compact-scheme.js';
import { convertCheckpoint, type ConvertProgress, type ConvertResult } from '../model/convert-node.js';
import { createTtyProgress, formatBytes } from '../model/hub/progress.js';
import { isPackedFormat, type PackedFormat } from '../runtime/weight-format.js';
import { formatDuration } from './index-progress.js';
import { print, UsageError } from './common.js';

export interface ConvertCliOptions {
  model?: string;
  dtype?: string;
  group?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** Seconds between plain progress lines when stderr is not a terminal. */
const LINE_INTERVAL_S = 5;

export async function convert(o: ConvertCliOptions): Promise<void> {
  if (!o.model) throw new UsageError('--model is required: the checkpoint to convert (hub id, directory or URL)');
  if (!o.out) throw new UsageError('--out DIR is required');
  if (!isPackedFormat(o.dtype)) throw new UsageError(`--dtype must be f16, int8 or q4, got ${JSON.stringify(o.dtype)}`);
  const dtype: PackedFormat = o.dtype;
  const group = parseGroup(o.group, dtype);
  const ctl = new AbortController();
  // Ctrl-C: stop between chunks and remove what was staged; a second Ctrl-C ends the process at once.
  const onSigint = () => ctl.abort(new Error('interrupted: nothing was written to --out'));
  process.once('SIGINT', onSigint);
  const progress = createProgress(process.stderr);
  let result: ConvertResult;
  try {
    result = await convertCheckpoint(o.model, o.out, { dtype, group, force: !!o.force, signal: ctl.signal, onProgress: progress.update });
  } catch (e) {
    throw ctl.signal.aborted ? (ctl.signal.reason as Error) : e;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  if (o.json) {
    print(JSON.stringify({ model: o.model, ...result }));
    return;
  }
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(3)}×` : '–');
  print(
    [
      `converted ${o.model} → ${result.outDir} (${dtype}${describeGroup(dtype, group)}) in ${formatDuration(result.seconds)}`,
      `  tensors: ${result.tensorsConverted} converted, ${result.tensorsCopied} kept as they were`,
      `  converted tensors: ${formatBytes(result.convertedBytesIn)} in (${formatBytes(result.convertedF32Bytes)} as f32) → ${formatBytes(result.convertedBytesOut)} out, ${ratio(result.convertedBytesOut, result.convertedF32Bytes)} of f32`,
      `  checkpoint: ${formatBytes(result.bytesIn)} in → ${formatBytes(result.bytesOut)} out (${ratio(result.bytesOut, result.bytesIn)})`,
      `  files: ${result.files.join(', ')}`,
    ].join('\n'),
  );
}

function parseGroup(s: string | undefined, dtype: PackedFormat): number {
  if (s === undefined) return COMPACT_DEFAULT_GROUP[dtype];
  const g = Number(s);
  if (!COMPACT_GROUPS[dtype].includes(g) || s.trim() === '') {
    if (dtype === 'f16') throw new UsageError('--group does not apply to f16 (it has no scales)');
    throw new UsageError(`--group for ${dtype} must be one of ${COMPACT_GROUPS[dtype].join(', ')}${dtype === 'int8' ? ' (0: one scale per output channel)' : ''}, got "${s}"`);
  }
  return g;
}

function describeGroup(dtype: PackedFormat, group: number): string {
  if (dtype === 'f16') return '';
  return group ? `, a scale per ${group} weights` : ', a scale per output channel';
}

/** Downloads (hub) as the other commands show them; conversion as one bar, or plain lines off a terminal. */
function createProgress(stream: NodeJS.WriteStream): { update: (p: ConvertProgress) => void; stop: () => void } {
  const download = createTtyProgress(stream);
  const t0 = Date.now();
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      update: (p) => {
        if (p.phase === 'download') return download({ file: p.file ?? '', loaded: p.loaded, total: p.total || undefined, done: p.total > 0 && p.loaded >= p.total });
        if (!bar) {
          bar = new cliProgress.SingleBar({
            stream,
            format: 'converting |{bar}| {percentage}% {bytes} ETA {eta_formatted} {tensor}',
            barCompleteChar: '\u2588',
            barIncompleteChar: '\u2591',
            hideCursor: false,
            etaBuffer: 50,
            fps: 8,
          });
          bar.start(p.total, 0, { bytes: '', tensor: '' });
        }
        bar.update(p.loaded, { bytes: `${formatBytes(p.loaded)}/${formatBytes(p.total)}`, tensor: p.tensor ?? '' });
      },
      stop: () => bar?.stop(),
    };
  }
  // The first line after LINE_INTERVAL_S (a short run prints only its last), then one per interval and the last.
  let last = 0;
  let lastFile = '';
  return {
    update: (p) => {
      const s = (Date.now() - t0) / 1000;
      if (p.phase === 'download') {
        // One line per file, when it is complete.
        if (p.total > 0 && p.loaded >= p.total && p.file !== lastFile) {
          lastFile = p.file ?? '';
          stream.write(`convert: downloaded ${p.file} (${formatBytes(p.total)})\n`);
        }
        return;
      }
      const end = p.loaded >= p.total;
      if (!end && s - last < LINE_INTERVAL_S) return;
      last = s;
      const pct = p.total > 0 ? Math.floor((100 * p.loaded) / p.total) : 100;
      stream.write(`convert: ${pct}% (${formatBytes(p.loaded)} of ${formatBytes(p.total)} read, ${formatDuration(s)} elapsed)${end ? '' : `, at ${p.tensor}`}\n`);
    },
    stop: () => {},
  };
}
