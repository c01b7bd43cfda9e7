/**
 * One writer per index directory. Two `index` runs appending to the same journal would interleave rows and
 * metadata, so the second is refused with a message naming the first (pid, host, start time).
 *
 * The lock is a proper-lockfile directory (`<out>/.lock`, mkdir-based, so it also works on network volumes) that
 * the holder refreshes; one left by a killed process goes stale after `staleMs`. A holder on this same host whose
 * process is gone is taken over at once (read from `<out>/.owner.json`), so resuming right after a crash works.
 */
import { readFileSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export class IndexLockedError extends Error {
  override name = 'IndexLockedError';
}

interface Owner {
  pid: number;
  host: string;
  started: string;
}

function readOwner(dir: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(join(dir, '.owner.json'), 'utf8')) as Owner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface HeldLock {
  release(): Promise<void>;
  /** Set when the lock was lost (its refresh failed or another process took it): the writer must stop. */
  readonly compromised: Error | null;
}

export async function lockIndexDir(dir: string, opts: { staleMs?: number } = {}): Promise<HeldLock> {
  const lockPath = join(dir, '.lock');
  const state: { compromised: Error | null } = { compromised: null };
  const attempt = () =>
    lockfile.lock(dir, {
      lockfilePath: lockPath,
      realpath: false,
      stale: opts.staleMs ?? 30_000,
      update: Math.max(1000, Math.floor((opts.staleMs ?? 30_000) / 3)),
      onCompromised: (err) => {
        state.compromised = err;
      },
    });
  let release: () => Promise<void>;
  try {
    release = await attempt();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    const owner = readOwner(dir);
    if (owner && owner.host === hostname() && owner.pid !== process.pid && !alive(owner.pid)) {
      rmSync(lockPath, { recursive: true, force: true }); // its process is gone: take over now
      try {
        release = await attempt();
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'ELOCKED') throw e2;
        throw lockedError(dir, readOwner(dir));
      }
    } else {
      throw lockedError(dir, owner);
    }
  }
  const owner: Owner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const tmp = join(dir, `.owner.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(owner) + '\n');
  await rename(tmp, join(dir, '.owner.json'));
  return {
    get compromised() {
      return state.compromised;
    },
    release: async () => {
      rmSync(join(dir, '.owner.json'), { force: true });
      await release().catch(() => undefined);
    },
  };
}

function lockedError(dir: string, owner: Owner | null): IndexLockedError {
  const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.started}` : 'another process';
  return new IndexLockedError(
    `${dir} is being written by another index run (${who}); two runs on one output directory are refused. ` +
      'Wait for it to finish, or give each run its own --out (with --shard i/n each worker writes its own sub-folder).',
  );
}
