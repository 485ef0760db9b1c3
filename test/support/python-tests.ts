import { spawnSync } from 'node:child_process';
import { expect } from '@jest/globals';

/**
 * Runs a folder's Python unittest files (`python3 -m unittest discover`) and expects at least `least` tests
 * to have run, none failed or errored: the Python parts of the pod are tested in `npm test` too.
 */
export function expectPythonTestsPass(cwd: string, folder: string, least: number, timeoutMs = 60_000): void {
  const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', folder, '-v'], {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const report = run.stderr;
  expect(report).toMatch(/^Ran (\d+) tests? in /m);
  expect(Number(/^Ran (\d+) tests?/m.exec(report)?.[1])).toBeGreaterThanOrEqual(least);
  expect(report).not.toMatch(/\.\.\. (FAIL|ERROR)$/m);
  expect(run.status).toBe(0);
}
