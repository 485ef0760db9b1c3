import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { artifactKeys } from '@pitwall/domain';
import { LocalRuntime } from '@pitwall/local';
import { recordEndpoints } from '../src/local-stack.js';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

const root = mkdtempSync(join(tmpdir(), 'pitwall-operate-'));
let runtime: LocalRuntime;
let finished: number;
let cancelled: number;

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  process.env.PITWALL_STATE_DIR = root;
  runtime = await LocalRuntime.start({
    stateDir: join(root, 'state'),
    executor: 'instant',
    workers: 2,
    pollMs: 100,
    housekeepingMs: 0,
    evaluationSeconds: 3,
  });
  recordEndpoints(runtime); // what `local up` leaves for the other commands
  finished = (await runtime.submit('Team Done', 'local/agent:good')).id;
  cancelled = (await runtime.submit('Team Gone', 'local/agent:good')).id;
  await until(() => runtime.evalai.get(cancelled).status === 'running');
  runtime.evalai.cancel(cancelled); // the participant, mid-run
  await until(() => runtime.evalai.get(finished).status === 'finished');
  await runtime.engine.idle();
}, 60_000);
afterAll(async () => {
  await runtime.stop();
  delete process.env.PITWALL_STATE_DIR;
});

describe('the operator commands against the running local stack', () => {
  it('list: every submission, newest first, with status, progress and why', async () => {
    const io = captureIo();
    expect(await runCli(['list'], io)).toBe(0);
    const rows = io
      .stdout()
      .split('\n')
      .filter((line) => /│ \d+ /.test(line));
    expect(rows[0]).toMatch(new RegExp(`│ ${cancelled} +│ Team Gone +│ cancelled `));
    expect(rows[1]).toMatch(new RegExp(`│ ${finished} +│ Team Done +│ finished +│ 20/20 `));
    for (const line of io.stdout().split('\n')) expect(line.length).toBeLessThanOrEqual(120);
  });

  it('list --json, with --status and --team filters', async () => {
    const io = captureIo();
    expect(await runCli(['list', '--json', '--status', 'finished'], io)).toBe(0);
    expect(JSON.parse(io.stdout())).toEqual([
      expect.objectContaining({
        pk: finished,
        team: 'Team Done',
        status: 'finished',
        progress: { done: 20, total: 20 },
      }),
    ]);
    const byTeam = captureIo();
    expect(await runCli(['list', '--json', '--team', 'Team Gone'], byTeam)).toBe(0);
    expect(JSON.parse(byTeam.stdout()).map((r: { pk: number }) => r.pk)).toEqual([cancelled]);
  });

  it('show: the attempt, the workers, the timeline and what EvalAI shows', async () => {
    const io = captureIo();
    expect(await runCli(['show', String(finished)], io)).toBe(0);
    const out = io.stdout();
    expect(out).toContain(`submission ${finished}: Team Done, phase 1 (SENSORS), image local/agent:good`);
    expect(out).toContain('EvalAI:   finished');
    expect(out).toMatch(/^worker 0: routes \S+, job \S+/m);
    const timeline = out.split('timeline:\n')[1]?.split('\n').filter(Boolean) ?? [];
    expect(timeline.map((line) => line.trim().split(/\s+/)[1])).toEqual(['received', 'queued', 'running', 'finished']);
    const json = captureIo();
    expect(await runCli(['show', String(cancelled), '--json'], json)).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({
      pk: cancelled,
      status: 'cancelled',
      evalaiStatus: 'cancelled',
      failureClass: 'cancelled',
    });
  });

  it('cost: GPU-hours and money per team and per phase, at the stage’s prices, over a period', async () => {
    // Two workers of 3 s each, at the local GPU's price (a g5.2xlarge's, on demand).
    const gpuHours = (2 * 3) / 3600;
    const json = captureIo();
    expect(await runCli(['cost', '--json'], json)).toBe(0);
    const report = JSON.parse(json.stdout());
    const done = report.byTeam.find((line: { key: string }) => line.key.startsWith('Team Done ('));
    expect(done).toMatchObject({ submissions: 1, unpriced: 0 });
    expect(done.gpuHours).toBeCloseTo(gpuHours, 6);
    expect(done.usd).toBeCloseTo(gpuHours * 1.212, 6);
    expect(report.byPhase.map((line: { key: string }) => line.key)).toEqual(['1 SENSORS']);
    expect(report.total.gpuHours).toBeGreaterThan(gpuHours); // the cancelled run's GPU time counts too
    const table = captureIo();
    expect(await runCli(['cost'], table)).toBe(0);
    expect(table.stdout()).toMatch(/│ Team Done \(\d+\) +│ 1 +│ 0\.00 +│ 0\.00 +│ 0 +│/);
    const later = captureIo();
    expect(await runCli(['cost', '--json', '--since', '2099-01-01'], later)).toBe(0);
    expect(JSON.parse(later.stdout()).total.submissions).toBe(0);
    const bad = captureIo();
    expect(await runCli(['cost', '--since', 'yesterday'], bad)).toBe(2);
    expect(bad.stderr()).toContain('--since must be a date (ISO 8601), got yesterday');
    const shown = captureIo();
    expect(await runCli(['show', String(finished), '--json'], shown)).toBe(0);
    expect(JSON.parse(shown.stdout()).cost.gpuHours).toBeCloseTo(gpuHours, 6);
  });

  it('leaderboard: the board as EvalAI shows it, and --json', async () => {
    const io = captureIo();
    expect(await runCli(['leaderboard'], io)).toBe(0);
    expect(io.stdout()).toMatch(/│ 1 +│ Team Done +│ [0-9.]+ +│/);
    const json = captureIo();
    expect(await runCli(['leaderboard', '--json'], json)).toBe(0);
    expect(JSON.parse(json.stdout())).toEqual([
      expect.objectContaining({ submissionPk: finished, teamName: 'Team Done' }),
    ]);
  });

  it('logs: refuses a worker the submission does not have, naming those it has', async () => {
    const io = captureIo();
    expect(await runCli(['logs', String(finished), '--worker', '7'], io)).toBe(2);
    expect(io.stderr()).toBe(`pitwall: submission ${finished} has no worker 7 (it has: 0, 1)\n`);
  });

  it('logs --follow: each line the workers add, once, until the submission ends', async () => {
    const { id } = await runtime.submit('Team Follow', 'local/agent:good');
    await until(() => runtime.evalai.get(id).status === 'running');
    const artifacts = runtime.plane.artifacts;
    const followed = captureIo();
    const following = runCli(['logs', String(id), '--follow'], followed);
    await artifacts.put(artifactKeys.log(id, 0, 'agent'), 'route 0 started\n', 'text/plain');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a round of the follow between the two uploads
    await artifacts.put(artifactKeys.log(id, 0, 'agent'), 'route 0 started\nroute 0 done\nroute 1', 'text/plain');
    await artifacts.put(artifactKeys.log(id, 1, 'agent'), 'worker 1 here\n', 'text/plain');
    expect(await following).toBe(0); // it returns once the run has ended
    expect(runtime.evalai.get(id).status).toBe('finished');
    const lines = followed.stdout().split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('[worker 0]'))).toEqual([
      '[worker 0] route 0 started',
      '[worker 0] route 0 done',
      '[worker 0] route 1',
    ]);
    expect(lines).toContain('[worker 1] worker 1 here');
  });

  it('republish: sends a finished result to EvalAI again; refuses a cancelled one, in one line', async () => {
    const writes = () => runtime.evalai.get(finished).history.filter((h) => h.status === 'finished').length;
    const before = writes();
    const io = captureIo();
    expect(await runCli(['republish', String(finished)], io)).toBe(0);
    expect(io.stdout()).toBe(`submission ${finished}: its stored result sent to EvalAI again (finished)\n`);
    expect(writes()).toBe(before + 1);
    expect(runtime.evalai.get(finished).status).toBe('finished');
    const refused = captureIo();
    expect(await runCli(['republish', String(cancelled)], refused)).toBe(2);
    expect(refused.stderr()).toBe(
      `pitwall: submission ${cancelled} was cancelled: a result is never written over a cancel\n`,
    );
    expect(runtime.evalai.get(cancelled).status).toBe('cancelled');
  });

  it('resume: EvalAI resumes a failed submission and Pitwall runs its next attempt; a finished one is refused', async () => {
    // An image from a registry the challenge does not allow: Register fails it, with the reason.
    const { id: failed } = await runtime.submit('Team Elsewhere', 'elsewhere.example/agent:1');
    await until(() => runtime.evalai.get(failed).status === 'failed');
    await runtime.engine.idle();
    const io = captureIo();
    expect(await runCli(['resume', String(failed)], io)).toBe(0);
    expect(io.stdout()).toBe(`submission ${failed}: resuming on EvalAI; attempt 2 begins when its message arrives\n`);
    await until(() => runtime.evalai.get(failed).status === 'failed'); // the same image, refused again
    await runtime.engine.idle();
    const show = captureIo();
    expect(await runCli(['show', String(failed), '--json'], show)).toBe(0);
    expect(JSON.parse(show.stdout())).toMatchObject({
      failureClass: 'rejected',
      fault: 'participant',
      record: { attempt: 2, status: 'failed' },
    });
    const text = captureIo();
    expect(await runCli(['show', String(failed)], text)).toBe(0);
    expect(text.stdout()).toContain('failure:  rejected (participant)');
    const list = captureIo();
    expect(await runCli(['list', '--status', 'failed'], list)).toBe(0);
    expect(list.stdout()).toMatch(
      new RegExp(`│ ${failed} +│ Team Elsewhere +│ failed .*│ rejected \\(participant\\) +│ The image`),
    );
    expect(runtime.evalai.get(failed).stderr.split('\n')[0]).toBe(
      'Failure: the submission was rejected [rejected; a problem with the submission]',
    );
    const refused = captureIo();
    expect(await runCli(['resume', String(finished)], refused)).toBe(2);
    expect(refused.stderr()).toBe(`pitwall: submission ${finished} is finished: only a failed submission resumes\n`);
  });

  it('requeue: the message of a submission that never started, sent again; one begun is refused', async () => {
    // EvalAI recorded the push, but its message never reached the queue.
    const lost = runtime.evalai.createSubmission({
      phasePk: 1,
      teamPk: runtime.evalai.teamPkOf('Team Lost'),
      teamName: 'Team Lost',
      imageUri: 'local/agent:good',
    });
    const io = captureIo();
    expect(await runCli(['requeue', String(lost.id)], io)).toBe(0);
    expect(io.stdout()).toBe(`submission ${lost.id}: its message sent to the queue again (attempt 1)\n`);
    await until(() => runtime.evalai.get(lost.id).status === 'finished');
    const refused = captureIo();
    expect(await runCli(['requeue', String(finished)], refused)).toBe(2);
    expect(refused.stderr()).toBe(
      `pitwall: submission ${finished} is finished on EvalAI: requeue re-sends only the message of a submission waiting to start\n`,
    );
  });

  it('cancel: refuses a submission that ended, in one line, and EvalAI keeps its status', async () => {
    const io = captureIo();
    expect(await runCli(['cancel', '--submission', String(finished)], io)).toBe(2);
    expect(io.stderr()).toBe(`pitwall: submission ${finished} is finished on EvalAI: there is nothing to cancel\n`);
    expect(runtime.evalai.get(finished).status).toBe('finished');
  });

  it('show names a submission it does not have, in one line', async () => {
    const io = captureIo();
    expect(await runCli(['show', '999'], io)).toBe(2);
    expect(io.stderr()).toBe('pitwall: no submission 999 on the running local Pitwall\n');
  });
});
