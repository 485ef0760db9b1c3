import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Another runtime holds the state folder: its stores cannot be opened twice. */
export class LocalRuntimeBusyError extends Error {
  constructor(
    readonly stateDir: string,
    readonly pid: number,
  ) {
    super(`another Pitwall runtime (pid ${pid}) is using ${stateDir}: stop it first, or use another folder`);
    this.name = 'LocalRuntimeBusyError';
  }
}

/**
 * Who holds the lock: a pid is not enough, since pids come back (after a reboot; a container restarted after an
 * OOM kill is pid 1 again). With it, when the process started (in clock ticks since boot, /proc/<pid>/stat)
 * and which boot that was (/proc/sys/kernel/random/boot_id); where /proc has neither, the pid alone.
 */
interface Holder {
  readonly pid: number;
  readonly startTime?: string;
  readonly bootId?: string;
}

const readOrUndefined = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Field 22 of /proc/<pid>/stat, read after the command name (which may hold spaces and parentheses). */
function startTimeOf(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function thisProcess(): Holder {
  const startTime = startTimeOf(process.pid);
  const bootId = readOrUndefined('/proc/sys/kernel/random/boot_id');
  return { pid: process.pid, ...(startTime ? { startTime } : {}), ...(bootId ? { bootId } : {}) };
}

const format = (holder: Holder) => `${[holder.pid, holder.startTime ?? '', holder.bootId ?? ''].join('\n')}\n`;

function parse(text: string): Holder | undefined {
  const [pid, startTime, bootId] = text.split('\n');
  const number = Number.parseInt(pid ?? '', 10);
  if (!Number.isInteger(number) || number <= 0) return undefined;
  return { pid: number, ...(startTime ? { startTime } : {}), ...(bootId ? { bootId } : {}) };
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The holder still runs: its pid is alive and, where the lock says, is the same process of the same boot. */
function alive(holder: Holder): boolean {
  if (!pidAlive(holder.pid)) return false;
  const now = thisProcess();
  if (holder.bootId && now.bootId && holder.bootId !== now.bootId) return false;
  const startTime = startTimeOf(holder.pid);
  return !(holder.startTime && startTime && holder.startTime !== startTime);
}

/**
 * The state folder's lock: a file naming the process that holds it, put in place atomically (a link of a
 * file of our own, which fails if one is there). One whose holder is gone (a `kill -9`, a reboot) is taken
 * over under a second, short-lived lock, so that of several starters that find the same dead holder only one
 * replaces it. Returns the release.
 */
export function lockStateDir(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'runtime.lock');
  const mine = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  const me = format(thisProcess());
  writeFileSync(mine, me);
  try {
    for (;;) {
      try {
        linkSync(mine, file);
        return () => {
          if (readOrUndefined(file) === me.trim()) rmSync(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = readOrUndefined(file);
      if (seen === undefined) continue; // let go meanwhile
      const holder = parse(seen);
      if (holder && alive(holder)) throw new LocalRuntimeBusyError(stateDir, holder.pid);
      takeOver(file, seen);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/** A takeover lock older than this was left by a starter that died in the middle of one. */
const TAKEOVER_STALE_MS = 10_000;

/** Removes a dead holder's lock, if it is still the one judged dead, holding the takeover lock meanwhile. */
function takeOver(file: string, judged: string): void {
  const takeover = `${file}.takeover`;
  try {
    writeFileSync(takeover, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another starter is taking over: look again shortly (its lock will be live by then).
    if (Date.now() - (statOrUndefined(takeover)?.mtimeMs ?? Date.now()) > TAKEOVER_STALE_MS) {
      rmSync(takeover, { force: true });
    }
    sleepSync(20);
    return;
  }
  try {
    if (readOrUndefined(file) === judged) rmSync(file, { force: true });
  } finally {
    rmSync(takeover, { force: true });
  }
}

const statOrUndefined = (path: string) => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

/** A short wait in a synchronous loop: the lock is taken before anything else starts. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Throws LocalRuntimeBusyError when a live runtime holds the folder (before, say, the folder is cleared). */
export function assertStateDirFree(stateDir: string): void {
  const seen = readOrUndefined(join(stateDir, 'runtime.lock'));
  const holder = seen === undefined ? undefined : parse(seen);
  if (holder && alive(holder)) throw new LocalRuntimeBusyError(stateDir, holder.pid);
}
