import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { recordEndpoints, runCli } from '@pitwall/cli';
import { artifactKeys } from '@pitwall/domain';
import { LocalRuntime, PREEMPT_ONCE_TAG, PREEMPT_SPOT_TAG, type ProcessJobRunner } from '@pitwall/local';
import { until } from '../support/until.js';

// A spot node taken back mid-run: the local executor stops the worker's pod as a node loss would (its
// emptyDirs gone, only what logcopy uploaded left) and starts a new one, which restores the checkpoint and
// resumes with the next route. Not a crash: the Job's backoffLimit is untouched.

const TERMINAL = ['finished', 'failed', 'cancelled'];
const text = async (runtime: LocalRuntime, key: string) => (await runtime.plane.artifacts.get(key)) ?? '';
/** The routes a worker's agent completed, one line each, over all its pods (the log is carried across). */
const driven = async (runtime: LocalRuntime, pk: number, worker: number) =>
  [...(await text(runtime, artifactKeys.log(pk, worker, 'agent'))).matchAll(/^route (\S+) rep (\d+): /gm)].map(
    (m) => `${m[1]}/${m[2]}`,
  );

describe('a worker whose node is lost mid-run', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await LocalRuntime.start({
      stateDir: mkdtempSync(join(tmpdir(), 'pitwall-preempt-')),
      workers: 2,
      pollMs: 200,
      // Slow enough that the node goes mid-run on a loaded machine too (at 6 or 40 ms/km the worker could be
      // done before its first upload was seen, and there was no node left to lose).
      msPerKm: 300,
    });
  }, 60_000); // a loaded machine takes more than the default 5 s to start a runtime
  afterAll(() => runtime.stop());
  const finish = (pk: number) => until(() => TERMINAL.includes(runtime.evalai.get(pk).status), 120_000);
  const jobs = () => runtime.jobs as ProcessJobRunner;
  const merged = async (pk: number) => JSON.parse(await text(runtime, artifactKeys.merged(pk)))._checkpoint;
  const jobOf = async (pk: number, worker: number) =>
    (await runtime.plane.store.get(pk))?.plan?.workers.find((w) => w.worker === worker)?.jobName ?? '';

  it('gives the same merged result as an uninterrupted run of the same agent, and drives no done route twice', async () => {
    const image = 'local/agent:good';
    const steady = await runtime.submit('Team Steady', image);
    const preempted = await runtime.submit('Team Spot', image);
    // Once worker 0 has uploaded a checkpoint with a route done, its node goes.
    await until(async () => {
      try {
        const checkpoint = await text(runtime, artifactKeys.checkpoint(preempted.id, 0));
        return JSON.parse(checkpoint)._checkpoint.records.length >= 1;
      } catch {
        return false; // none yet, or one logcopy took as the agent left it mid-write (seen under load): the next
      }
    }, 60_000);
    const job = await jobOf(preempted.id, 0);
    expect(await jobs().preempt(job)).toBe(true);
    expect(await jobs().observe(job)).toMatchObject({ state: 'running', interruptions: 1 });
    await finish(steady.id);
    await finish(preempted.id);
    expect(runtime.evalai.get(preempted.id).status).toBe('finished');
    expect(runtime.evalai.get(steady.id).status).toBe('finished');
    const [a, b] = [await merged(steady.id), await merged(preempted.id)];
    expect(b.records).toEqual(a.records);
    expect(b.global_record).toEqual(a.global_record);
    expect(runtime.evalai.get(preempted.id).resultFile).toBe(runtime.evalai.get(steady.id).resultFile);
    expect(runtime.evalai.get(preempted.id).resultFile).toContain('Driving score');
    // The control plane saw the lost node: worker 0 had two pods, one interruption, and both cost GPU time.
    const usage = (await runtime.plane.store.get(preempted.id))?.usage?.find((u) => u.worker === 0);
    expect(usage?.interruptions).toBe(1);
    expect(usage?.pods).toHaveLength(2);
    expect(usage?.pods.every((pod) => pod.instanceType === 'local' && pod.endedAt)).toBe(true);
    const routes = await driven(runtime, preempted.id, 0);
    expect(routes.length).toBeGreaterThan(1);
    expect(new Set(routes).size).toBe(routes.length); // each route once, the pod before the loss and after
    expect(await text(runtime, artifactKeys.log(preempted.id, 0, 'agent'))).toMatch(/resuming from route [1-9]/);
  }, 180_000);

  it(`takes the node of an agent tagged ${PREEMPT_ONCE_TAG} once, after its first route, and resumes it`, async () => {
    const submission = await runtime.submit('Team Tagged', `local/agent:${PREEMPT_ONCE_TAG}`);
    await finish(submission.id);
    expect(runtime.evalai.get(submission.id).status).toBe('finished');
    expect(runtime.evalai.get(submission.id).stdout).toContain('Completed 20 out of 20 routes');
    for (const worker of [0, 1]) {
      const routes = await driven(runtime, submission.id, worker);
      expect(new Set(routes).size).toBe(routes.length);
      expect(await text(runtime, artifactKeys.log(submission.id, worker, 'agent'))).toMatch(
        /resuming from route [1-9]/,
      );
    }
  }, 180_000);
});

describe('a spot-first worker whose spot nodes keep being lost', () => {
  let runtime: LocalRuntime;
  const root = mkdtempSync(join(tmpdir(), 'pitwall-spot-first-'));
  beforeAll(async () => {
    process.env.PITWALL_STATE_DIR = root; // where `pitwall show` finds the running stack
    runtime = await LocalRuntime.start({
      stateDir: join(root, 'state'),
      workers: 2,
      pollMs: 200,
      // Slow enough that each spot pod is lost after its first route, long before the worker is done.
      msPerKm: 40,
      capacity: { capacity: 'spot-first', maxInterruptions: 1 },
    });
    recordEndpoints(runtime);
  }, 60_000);
  afterAll(async () => {
    await runtime.stop();
    delete process.env.PITWALL_STATE_DIR;
  });

  it(`moves to on demand, in a Job of its own, after more than maxInterruptions lost nodes (${PREEMPT_SPOT_TAG})`, async () => {
    const steady = await runtime.submit('Team Steady', 'local/agent:good');
    const unlucky = await runtime.submit('Team Unlucky', `local/agent:${PREEMPT_SPOT_TAG}`);
    for (const { id } of [steady, unlucky]) {
      await until(() => TERMINAL.includes(runtime.evalai.get(id).status), 150_000);
      expect(runtime.evalai.get(id).status).toBe('finished');
    }
    expect(runtime.evalai.get(unlucky.id).resultFile).toBe(runtime.evalai.get(steady.id).resultFile);
    const record = await runtime.plane.store.get(unlucky.id);
    for (const worker of record?.plan?.workers ?? []) {
      expect(worker.onDemandSince).toBeDefined();
      expect(worker.jobName).toMatch(/-od-[a-z2-7]{10}$/);
      const usage = record?.usage?.filter((u) => u.worker === worker.worker) ?? [];
      const [spot, onDemand] = [
        usage.filter((u) => u.job !== worker.jobName),
        usage.find((u) => u.job === worker.jobName),
      ];
      // At least two lost spot nodes (the limit is one), then on demand, where nothing was lost.
      expect(spot.reduce((sum, u) => sum + u.interruptions, 0)).toBeGreaterThanOrEqual(2);
      expect(spot.flatMap((u) => u.pods).every((pod) => pod.capacityType === 'spot' && pod.endedAt)).toBe(true);
      expect(onDemand?.interruptions).toBe(0);
      expect(onDemand?.pods.map((pod) => pod.capacityType)).toEqual(['on-demand']);
      // Every route the worker completed, over its spot pods and its on-demand one, was driven once.
      const routes = await driven(runtime, unlucky.id, worker.worker);
      expect(routes).toHaveLength(worker.routeIds.length);
      expect(new Set(routes).size).toBe(routes.length);
    }
    // What the host sees of it.
    const printed: string[] = [];
    const io = {
      interactive: false,
      out: (t: string) => void printed.push(t),
      err: () => {},
      readStdin: async () => '',
    };
    expect(await runCli(['show', String(unlucky.id)], io)).toBe(0);
    expect(printed.join('')).toMatch(/^worker 1: .*, node lost [2-9] times \(resumed\), on demand since \S+$/m);
    // The spot Jobs are gone; the run's cleanup took the on-demand ones.
    expect((await runtime.jobs.list()).filter((j) => j.submissionPk === unlucky.id)).toEqual([]);
  }, 240_000);
});
