import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The state folder's lock: a file naming the process that holds it, created exclusively. One left by a
 * process that is gone (a `kill -9`) is taken over.
 */
export function lockStateDir(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'runtime.lock');
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    assertStateDirFree(stateDir);
    rmSync(file, { force: true });
  }
}

/** Throws LocalRuntimeBusyError when a live runtime holds the folder (before, say, the folder is cleared). */
export function assertStateDirFree(stateDir: string): void {
  let holder: number;
  try {
    holder = Number.parseInt(readFileSync(join(stateDir, 'runtime.lock'), 'utf8'), 10);
  } catch {
    return; // no lock: nobody holds it
  }
  if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new LocalRuntimeBusyError(stateDir, holder);
}
