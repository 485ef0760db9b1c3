import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DEMO_TEAMS, runDemo } from '../src/commands/local.js';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

describe('the local commands', () => {
  it('runs the demo to the end: every team finished, a leaderboard, where the artifacts are', async () => {
    const io = captureIo();
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pitwall-demo-')), 'demo');
    const finished = await runDemo(io, { workers: 2, msPerKm: 3, stateDir, live: false });
    expect(finished).toBe(true);
    const out = io.stdout();
    expect(out).toContain('Leaderboard (as EvalAI shows it):');
    for (const { team } of DEMO_TEAMS) {
      expect(out).toContain(`${team}: finished on EvalAI`);
      expect(out).toMatch(new RegExp(`│ [123]    │ ${team} +│ [0-9.]+ +│`));
    }
    expect(out).toContain(join(stateDir, 's3', 'pitwall-artifacts', 'submissions', '1'));
    expect(out).toMatch(/Team Phoenix: running, \d+\/20 routes/);
  }, 120_000);

  it('tells the user to start Pitwall before submitting to it', async () => {
    const io = captureIo();
    expect(await runCli(['submit', '--team', 'x', '--image', 'local/agent:good'], io)).toBe(2);
    expect(io.stderr()).toContain('start one with `pnpm pitwall local up`');
  });
});
