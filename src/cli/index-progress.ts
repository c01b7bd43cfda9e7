/**
 * Progress of `index` on stderr: a bar with files/s and ETA on a terminal; elsewhere (logs, CI, Kubernetes) one
 * plain line every `intervalS` seconds and at the end, so a log shows the run is alive without drowning in it.
 */
import cliProgress from 'cli-progress';
import type { IndexProgress } from '../apps/indexer.js';

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export function createIndexProgress(stream: NodeJS.WriteStream, intervalS: number): { update: (p: IndexProgress) => void; stop: () => void } {
  let startDone = -1;
  let startS = 0;
  const rate = (p: IndexProgress) => {
    if (startDone < 0) [startDone, startS] = [p.done, p.seconds];
    const dt = p.seconds - startS;
    return dt > 0 ? (p.done - startDone) / dt : 0;
  };
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      update: (p) => {
        if (p.phase === 'scan') return void stream.write(`\rscanning: ${p.found} files found`);
        if (!bar) {
          if (p.phase !== 'embed') return;
          stream.write('\n');
          bar = new cliProgress.SingleBar({
            stream,
            format: 'embedding |{bar}| {value}/{total} files {speed} files/s ETA {eta_formatted} {errors} errors',
            barCompleteChar: '\u2588',
            barIncompleteChar: '\u2591',
            hideCursor: false,
            etaBuffer: 50,
          });
          bar.start(p.total, p.done, { speed: '0.0', errors: p.errors });
        }
        bar.update(p.done, { speed: rate(p).toFixed(1), errors: p.errors });
      },
      stop: () => bar?.stop(),
    };
  }
  let last = -Infinity;
  return {
    update: (p) => {
      const r = rate(p);
      const end = p.phase === 'finish';
      if (!end && p.seconds - last < intervalS) return;
      last = p.seconds;
      if (p.phase === 'scan') return void stream.write(`index: scanning, ${p.found} files found\n`);
      const eta = r > 0 ? formatDuration((p.total - p.done) / r) : '?';
      stream.write(`index: ${p.done}/${p.total} files (${r.toFixed(1)} files/s, ${p.errors} errors, ${formatDuration(p.seconds)} elapsed${end ? '' : `, ETA ${eta}`})\n`);
    },
    stop: () => {},
  };
}
