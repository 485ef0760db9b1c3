import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { LocalRuntimeBusyError, lockStateDir } from '@pitwall/local';

// The state folder's lock names its holder by more than a pid: after a reboot, or in a container restarted as
// pid 1 again, a pid that is alive is not the holder's.

const folder = () => mkdtempSync(join(tmpdir(), 'pitwall-lock-'));
const lockOf = (dir: string) => join(dir, 'runtime.lock');

describe('the state folder lock', () => {
  it('is refused while a live holder has it, this process included', () => {
    const dir = folder();
    const unlock = lockStateDir(dir);
    try {
      expect(() => lockStateDir(dir)).toThrow(LocalRuntimeBusyError);
    } finally {
      unlock();
    }
    lockStateDir(dir)(); // let go: the next start takes it
  });

  it('is taken over when its pid is alive but is another process than the one that wrote it', () => {
    // This very pid, with another start time: a container restarted after an OOM kill is pid 1 again.
    const dir = folder();
    const [pid, , boot] = readFileSync(lockOf(lockAndRelease(dir)), 'utf8')
      .trim()
      .split('\n');
    writeFileSync(lockOf(dir), `${pid}\n1\n${boot}\n`);
    lockStateDir(dir)();
    // Pid 1 is always alive, but it is not a Pitwall that started at that time.
    writeFileSync(lockOf(dir), `1\n999999999\n${boot}\n`);
    lockStateDir(dir)();
    // Written before this machine's last boot: whatever runs under that pid now is another process.
    writeFileSync(lockOf(dir), `${process.pid}\n${startTimeField(dir)}\nanother-boot\n`);
    lockStateDir(dir)();
  });

  it('is given to exactly one of several starters that find the same dead holder', async () => {
    const script = fileURLToPath(new URL('./lock-once.ts', import.meta.url));
    for (let round = 0; round < 3; round += 1) {
      const dir = folder();
      const barrier = folder();
      writeFileSync(lockOf(dir), '2147483646\n1\nno-boot\n'); // a holder long gone
      const starters = Array.from({ length: 4 }, () => startNode(['--import', 'tsx', script, dir, barrier]));
      // All ready, then all at once; the holder holds until the others have answered.
      while (readdirSync(barrier).length < starters.length) await new Promise((resolve) => setTimeout(resolve, 20));
      writeFileSync(join(barrier, 'go'), '');
      const said = await Promise.all(starters.map((s) => s.said));
      expect(said.filter((r) => r === 'held')).toHaveLength(1);
      expect(said.filter((r) => r === 'busy')).toHaveLength(3);
      writeFileSync(join(barrier, 'done'), '');
      await Promise.all(starters.map((s) => s.exited));
      expect(readdirSync(dir)).toEqual(['runtime.lock']);
    }
  }, 120_000);
});

/** The folder locked once and let go, the lock file left behind as a crash would leave it. */
function lockAndRelease(dir: string): string {
  const unlock = lockStateDir(dir);
  const text = readFileSync(lockOf(dir), 'utf8');
  unlock();
  writeFileSync(lockOf(dir), text);
  return dir;
}

function startTimeField(dir: string): string {
  return readFileSync(lockOf(lockAndRelease(dir)), 'utf8').split('\n')[1] ?? '';
}

/** A node process: its first line of output, and its exit. */
function startNode(args: string[]): { said: Promise<string>; exited: Promise<void> } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const said = new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', () => resolve(out.trim()));
  });
  return { said, exited: new Promise((resolve) => child.on('exit', () => resolve())) };
}
