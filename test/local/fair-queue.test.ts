import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { recordEndpoints, runCli } from '@pitwall/cli';
import type { SubmissionRecord } from '@pitwall/domain';
import { LocalRuntime } from '@pitwall/local';
import { until } from '../support/until.js';

// Pitwall's queue on the real ASL, run by the local engine with the real handlers: a heavy team's burst (as
// many as EvalAI lets it have in progress, 3) does not hold back a light team's one submission, and no
// track ever runs past its GPU budget (one worker here).
let runtime: LocalRuntime;
const root = mkdtempSync(join(tmpdir(), 'pitwall-queue-'));
beforeAll(async () => {
  process.env.PITWALL_STATE_DIR = root; // where `pitwall list` finds the running stack
  runtime = await LocalRuntime.start({
    stateDir: join(root, 'state'),
    executor: 'instant',
    workers: 1,
    pollMs: 100,
    housekeepingMs: 0,
    // Long enough that the heavy run holding the GPU is still on it while the light one is listed: at 3 s
    // a loaded machine saw it end first, and the light one was running, with no place, by the time of `list`.
    evaluationSeconds: 10,
    queue: { capacity: { SENSORS: 1 }, maxConcurrentPerTeam: 1, pollSeconds: 1 },
    publicStatus: { host: '127.0.0.1', port: 0 },
  });
  recordEndpoints(runtime);
}, 60_000);
afterAll(async () => {
  await runtime.stop();
  delete process.env.PITWALL_STATE_DIR;
}, 30_000);

const record = async (pk: number) => (await runtime.plane.store.get(pk)) as SubmissionRecord;
const endOf = (r: SubmissionRecord) => Date.parse(r.history.at(-1)?.at ?? '');

describe('the fair queue, end to end', () => {
  it('admits a light team’s submission at the first release, ahead of the rest of a heavy burst', async () => {
    const heavy: number[] = [];
    for (let i = 0; i < 3; i++) heavy.push((await runtime.submit('Team Heavy', 'local/agent:good')).id);
    const admitted = async (pk: number) => Boolean((await record(pk))?.admission?.admittedAt);
    // Whichever of the burst the scheduler saw first holds the GPU; the other two wait.
    await until(async () => (await Promise.all(heavy.map(admitted))).some(Boolean), 30_000);
    const light = (await runtime.submit('Team Light', 'local/agent:good')).id;
    await until(async () => runtime.evalai.get(light).status === 'queued', 10_000);
    expect(await admitted(light)).toBe(false); // the GPU is the heavy team's: it waits, shown queued
    // Its place, as the host sees it: first in line, ahead of the heavy team's two still waiting.
    const printed: string[] = [];
    const listed = {
      interactive: false,
      out: (text: string) => void printed.push(text),
      err: () => {},
      readStdin: async () => '',
    };
    expect(await runCli(['list', '--json'], listed)).toBe(0);
    const places = Object.fromEntries(
      JSON.parse(printed.join('')).map((s: { pk: number; queue: { position: number } | null }) => [
        s.pk,
        s.queue?.position,
      ]),
    );
    expect(places[light]).toBe(1);
    expect(
      Object.values(places)
        .filter((p) => p !== undefined)
        .sort(),
    ).toEqual([1, 2, 3]);
    const overview = (await (await fetch(new URL('/api/overview', runtime.endpoints.dashboard))).json()) as {
      waiting: unknown[];
    };
    expect(overview.waiting[0]).toMatchObject({ submissionPk: light, queue: { position: 1 } });
    // The public page: ids and places, no team names (the stage does not allow them), no reasons.
    const status = await (await fetch(new URL('/api/status', runtime.endpoints.publicStatus))).text();
    expect(JSON.parse(status).waiting[0]).toEqual({ submissionPk: light, position: 1 });
    expect(status).not.toMatch(/Team|reason/);

    const all = [...heavy, light];
    await until(() => all.every((pk) => runtime.evalai.get(pk).status === 'finished'), 120_000);
    await runtime.engine.idle();
    const records = await Promise.all(all.map(record));
    const admittedAt = (pk: number) => Date.parse(records[all.indexOf(pk)]?.admission?.admittedAt ?? '');
    // The heavy submissions still waiting when the light one arrived: it goes before all of them.
    const lightArrived = Date.parse(records.at(-1)?.admission?.requestedAt ?? '');
    const laterHeavy = heavy.map(admittedAt).filter((at) => at > lightArrived);
    expect(laterHeavy.length).toBeGreaterThan(0);
    expect(admittedAt(light)).toBeLessThan(Math.min(...laterHeavy));
    // Never more than the track's one GPU at once: each run from its admission to its end.
    for (const r of records) {
      const at = Date.parse(r.admission?.admittedAt ?? '');
      const overlapping = records.filter((o) => Date.parse(o.admission?.admittedAt ?? '') <= at && endOf(o) > at);
      expect(overlapping.length).toBeLessThanOrEqual(1);
    }
    // Every submission showed queued on EvalAI before it ran.
    for (const pk of all) {
      const statuses = runtime.evalai.get(pk).history.map((h) => h.status);
      expect(statuses.indexOf('queued')).toBeLessThan(statuses.indexOf('running'));
    }
    expect((await runtime.plane.admissions.read()).holdings).toEqual([]);
  }, 180_000);
});
