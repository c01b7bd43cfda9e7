/**
 * Download progress for the CLI: one cli-progress bar per file on stderr with bytes, rate and ETA; nothing at all
 * when stderr is not a terminal (logs, pipes, CI), so redirected output stays clean. Node only, and imported
 * directly by the CLI (not re-exported from ./index.js) so a browser bundle never pulls in cli-progress.
 */
import cliProgress from 'cli-progress';
import type { DownloadProgress } from './hub-config.js';

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[u]}`;
}

interface Live {
  bar: cliProgress.SingleBar;
  startedAt: number;
  /** Bytes already on disk when this run began (a resumed download): not counted in the rate. */
  startLoaded: number;
}

/** An `onProgress` for HubOptions that draws on `stream` (default stderr) when it is a TTY, else does nothing. */
export function createTtyProgress(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  if (!stream.isTTY) return () => {};
  const live = new Map<string, Live>();
  return (p) => {
    let l = live.get(p.file);
    if (!l) {
      if (p.done && p.loaded === 0) return;
      const bar = new cliProgress.SingleBar({
        stream,
        format: '{file} |{bar}| {percentage}% {bytes} {rate} ETA {eta_formatted}',
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
        // No hidden cursor: restoring it needs a SIGINT handler, and one would stop Ctrl-C from exiting.
        hideCursor: false,
        etaBuffer: 50,
        fps: 8,
      });
      l = { bar, startedAt: Date.now(), startLoaded: p.loaded };
      live.set(p.file, l);
      bar.start(p.total ?? p.loaded, p.loaded, payload(p, l));
    }
    // Unknown total: keep the bar full-width at the current size rather than showing a made-up percentage.
    if (p.total === undefined) l.bar.setTotal(Math.max(1, p.loaded));
    l.bar.update(p.loaded, payload(p, l));
    if (p.done) {
      l.bar.stop();
      live.delete(p.file);
    }
  };
}

function payload(p: DownloadProgress, l: Live): Record<string, string> {
  const seconds = (Date.now() - l.startedAt) / 1000;
  const rate = seconds > 0.2 ? (p.loaded - l.startLoaded) / seconds : 0;
  return {
    file: p.file,
    bytes: p.total !== undefined ? `${formatBytes(p.loaded)}/${formatBytes(p.total)}` : formatBytes(p.loaded),
    rate: rate > 0 ? `${formatBytes(rate)}/s` : '',
  };
}
