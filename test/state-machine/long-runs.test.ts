import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  launchWorker,
  markQueued,
  planSubmission,
  registerSubmission,
  SWEEP_GRACE_SECONDS,
  sweepSubmissions,
} from '@pitwall/domain';
import { checkpointText, routesOf, writeCheckpoint } from '../support/evaluator.js';
import { type ExecutionResult, runExecution } from '../support/run-execution.js';
import { challengeConfig, IMAGE, PHASE_PK, Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start(challengeConfig({ poll: { initialSeconds: 1, maxSeconds: 1, maxTurns: 3 } }));
});
afterAll(() => stack.stop());

function submit(teamPk: number) {
  const s = stack.evalai.createSubmission({ phasePk: PHASE_PK, teamPk, teamName: `team ${teamPk}`, imageUri: IMAGE });
  return { pk: s.id, input: [{ messageId: `m${s.id}`, receiptHandle: 'r', body: stack.evalai.messageFor(s.id) }] };
}

describe('long runs and recovery', () => {
  it('hands a long run over to a fresh execution that finishes it', async () => {
    let observed = 0;
    stack.jobs.onLaunch = (spec) => stack.jobs.setState(spec.name, 'running');
    const continued: Promise<ExecutionResult>[] = [];
    stack.onStartExecution = async (input) => {
      continued.push(runExecution(stack, input, { executionId: 'exec-handed-over', beforeObserve: finishWorkers }));
      return 'exec-handed-over';
    };
    const { pk, input } = submit(101);
    async function finishWorkers(): Promise<void> {
      observed += 1;
      if (observed < 4) return;
      for (const spec of stack.jobs.jobsOf(pk)) {
        await writeCheckpoint(stack, spec, checkpointText(await routesOf(stack, spec)));
        stack.jobs.setState(spec.name, 'succeeded');
      }
    }
    const first = await runExecution(stack, input, { beforeObserve: finishWorkers });
    expect(first.status).toBe('SUCCEEDED');
    expect(first.path.at(-1)).toBe('HandedOver');
    expect(first.path.filter((s) => s === 'Observe')).toHaveLength(3);
    expect((await stack.plane.store.get(pk))?.executionId).toBe('exec-handed-over');
    const second = await continued[0];
    expect(second?.status).toBe('SUCCEEDED');
    expect(second?.path.slice(0, 3)).toEqual(['Start', 'ResumePolling', 'WaitForWorkers']);
    expect(stack.evalai.get(pk).status).toBe('finished');
    stack.onStartExecution = undefined;
  });

  it('resumes a failed submission as a new attempt that keeps the split and continues the checkpoints', async () => {
    // Attempt 1: worker 1 fails half-way through its routes.
    stack.jobs.onLaunch = async (spec) => {
      const routes = await routesOf(stack, spec);
      if (spec.worker === 1 && spec.attempt === 1) {
        await writeCheckpoint(stack, spec, checkpointText(routes, 2));
        stack.jobs.setState(spec.name, 'failed', { reason: 'BackoffLimitExceeded', containers: [] });
        return;
      }
      await writeCheckpoint(stack, spec, checkpointText(routes));
      stack.jobs.setState(spec.name, 'succeeded');
    };
    const { pk, input } = submit(102);
    await runExecution(stack, input);
    expect(stack.evalai.get(pk).status).toBe('failed');
    const firstPlan = (await stack.plane.store.get(pk))?.plan;

    stack.evalai.resume(pk);
    const resumed = await runExecution(stack, input);
    expect(resumed.status).toBe('SUCCEEDED');
    const record = await stack.plane.store.get(pk);
    expect(record).toMatchObject({ status: 'finished', attempt: 2 });
    expect(record?.plan?.workers.map((w) => w.routeIds)).toEqual(firstPlan?.workers.map((w) => w.routeIds));
    const second = stack.jobs.launches.filter((s) => s.submissionPk === pk && s.attempt === 2);
    expect(second).toHaveLength(4);
    expect(second.every((s) => s.resume)).toBe(true);
    expect(new Set(second.map((s) => s.name)).size).toBe(4);
    expect(second.some((s) => firstPlan?.workers.some((w) => w.jobName === s.name))).toBe(false);
    expect(stack.evalai.get(pk).status).toBe('finished');
    // A second delivery of the resume message is a duplicate.
    const again = await runExecution(stack, input);
    expect(again.path.at(-1)).toBe('Skipped');
  });

  it('the sweeper fails submissions whose execution died or that are far past their deadline, and only those', async () => {
    stack.jobs.onLaunch = (spec) => stack.jobs.setState(spec.name, 'running');
    /** Registers and launches as an execution would, then "stops" after MarkQueued. */
    async function startedThenAbandoned(teamPk: number, alive: boolean): Promise<number> {
      const { pk, input } = submit(teamPk);
      const registration = await registerSubmission(stack.plane, { event: input, executionId: `exec-${pk}` });
      if (registration.action !== 'run') throw new Error(`expected to run, got ${registration.action}`);
      const plan = await planSubmission(stack.plane, registration.submission);
      for (const { worker } of plan.workers)
        await launchWorker(stack.plane, { submission: registration.submission, worker });
      await markQueued(stack.plane, registration.submission);
      if (alive) stack.runningExecutions.add(`exec-${pk}`);
      return pk;
    }
    const overdue = await startedThenAbandoned(104, true);
    // Never seen running: overdue once past the queue timeout (24 h) and the time limit both.
    stack.clock.advance(24 * 3600 + 3600 + SWEEP_GRACE_SECONDS + 1);
    const dead = await startedThenAbandoned(103, false);
    const healthy = await startedThenAbandoned(105, true);

    const report = await sweepSubmissions(stack.plane);
    expect([...report.failed].sort()).toEqual([dead, overdue].sort());
    expect(report.errors).toEqual([]);
    expect(stack.evalai.get(dead).stderr).toContain('interrupted in the evaluation backend');
    expect(stack.evalai.get(overdue).stderr).toContain('Time limit exceeded');
    expect((await stack.plane.store.get(dead))?.status).toBe('failed');
    expect(stack.jobs.jobsOf(dead)).toHaveLength(0);
    expect((await stack.plane.store.get(healthy))?.status).toBe('queued');
    expect(stack.evalai.get(healthy).status).toBe('queued');
  });
});
