import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { lockStateDir } from '@pitwall/local';
import { DEMO_TEAMS, runDemo } from '../src/commands/local-run.js';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

describe('the local commands', () => {
  it('runs the demo to the end: every team finished, a leaderboard, where the artifacts are', async () => {
    const io = captureIo();
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pitwall-demo-')), 'demo');
    const finished = await runDemo(io, { workers: 2, msPerKm: 3, stateDir, live: false, executor: 'processes' });
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

  describe('with a state folder of its own (PITWALL_STATE_DIR)', () => {
    const saved = process.env.PITWALL_STATE_DIR;
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'pitwall-cli-'));
      process.env.PITWALL_STATE_DIR = root;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.PITWALL_STATE_DIR;
      else process.env.PITWALL_STATE_DIR = saved;
    });

    it('says in one line that the stack it last knew is gone (stopped or killed), for each command that talks to it', async () => {
      // What a `kill -9` of `local up` leaves: the endpoints of servers that are no longer there.
      const gone = 'http://127.0.0.1:9';
      const stack = { evalai: gone, dynamodb: gone, participantToken: 'p', region: 'eu-west-1', table: 't' };
      writeFileSync(join(root, 'endpoints.json'), JSON.stringify(stack));
      for (const argv of [
        ['list'],
        ['show', '3'],
        ['submit', '--team', 'x', '--image', 'local/agent:good'],
        ['cancel', '--submission', '3'],
      ]) {
        const io = captureIo();
        expect(await runCli(argv, io)).toBe(2);
        expect(io.stderr()).toBe(
          'pitwall: no local Pitwall answers at http://127.0.0.1:9 (it was stopped or killed): start one with `pnpm pitwall local up`\n',
        );
      }
    });

    it('refuses, in one line, to start a second runtime on a state folder another one holds', async () => {
      const unlock = lockStateDir(join(root, 'state'));
      try {
        const io = captureIo();
        expect(await runCli(['local', 'up'], io)).toBe(2);
        expect(io.stderr()).toBe(
          `pitwall: another Pitwall runtime (pid ${process.pid}) is using ${join(root, 'state')}: stop it first, or use another folder\n`,
        );
      } finally {
        unlock();
      }
    });
  });

  it('refuses a stand-in agent whose tag names no behaviour, listing the known ones', async () => {
    const io = captureIo();
    expect(await runCli(['submit', '--team', 'x', '--image', 'local/agent:typo'], io)).toBe(2);
    expect(io.stderr()).toBe(
      'pitwall: local/agent:typo: the stand-in has no agent "typo"; the known ones are good, slow, crash-once, carla-crash-once, idle, hang, bad-checkpoint, preempt-once, preempt-spot, fork-bomb, fill-disk\n',
    );
  });

  it('tells the user to start Pitwall before submitting to it', async () => {
    const io = captureIo();
    expect(await runCli(['submit', '--team', 'x', '--image', 'local/agent:good'], io)).toBe(2);
    expect(io.stderr()).toContain('start one with `pnpm pitwall local up`');
  });
});
