import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const referee = fileURLToPath(new URL('../../cluster/images/evaluator/referee/', import.meta.url));

describe('the referee channel (cluster/images/evaluator/referee)', () => {
  it('carries a whole run for a well-behaved agent and gives hostile ones nothing (its Python tests)', () => {
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'test', '-v'], {
      cwd: referee,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const report = run.stderr;
    expect(report).toMatch(/^Ran (\d+) tests? in /m);
    expect(Number(/^Ran (\d+) tests?/m.exec(report)?.[1])).toBeGreaterThanOrEqual(10);
    expect(report).not.toMatch(/\.\.\. (FAIL|ERROR)$/m);
    expect(run.status).toBe(0);
  }, 90_000);
});
