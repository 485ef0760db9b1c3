import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  collectResults,
  deleteJobs,
  handleFailure,
  launchWorker,
  markQueued,
  ORPHAN_GRACE_SECONDS,
  observeSubmission,
  planSubmission,
  publishOutcome,
  registerSubmission,
  sweepSubmissions,
} from '../../src/index.js';
import { harness } from './harness.js';

describe('HandleFailure', () => {
  it('fails the attempt its own execution registered, with the reason for the participant', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    // Its two workers ran half an hour, on nodes the stage prices none of.
    const startedAt = h.clock.now().toISOString();
    for (const job of h.jobs.jobsOf(pk)) h.jobs.setState(job.name, 'running', { pods: [{ startedAt }] });
    await observeSubmission(h.plane, { submission });
    h.clock.advance(1800);
    const failure = await handleFailure(h.plane, {
      registration: { action: 'run', submission },
      error: { Error: 'JobRunnerRejectedError', Cause: 'the cluster refused the Job' },
      executionId: 'exec-1',
    });
    // What the attempt cost comes back for the phase's cost metric: its GPU time, to now, and no price.
    expect(failure).toEqual({
      status: 'failed',
      failureClass: 'platform_error',
      cost: { phasePk: 527, track: 'SENSORS', gpuHours: 1 },
    });
    expect(h.evalai.resultOf(pk)?.stderr).toContain('JobRunnerRejectedError: the cluster refused the Job');
    expect(await h.store.get(pk)).toMatchObject({ status: 'failed', evalaiReported: true });
    expect(h.jobs.jobsOf(pk)).toEqual([]);
  });

  it('leaves a live run alone when a bad or duplicate message names it (item 8)', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    const submission = await h.start(event);
    const bad = JSON.stringify({ challenge_pk: '203', phase_pk: '527', submission_pk: pk, submitted_image_uri: 42 });
    const registration = await registerSubmission(h.plane, {
      event: [{ messageId: 'm2', receiptHandle: 'r', body: bad }],
      executionId: 'exec-2',
    });
    expect(registration.action).toBe('invalid');
    expect(
      await handleFailure(h.plane, {
        registration,
        error: { Error: 'InvalidMessageError', Cause: 'bad' },
        executionId: 'exec-2',
      }),
    ).toEqual({ status: 'unreported' });
    // Nor may another execution fail the attempt exec-1 owns.
    expect(
      await handleFailure(h.plane, {
        registration: { action: 'run', submission },
        error: { Error: 'Error' },
        executionId: 'exec-2',
      }),
    ).toEqual({ status: 'unreported' });
    expect(h.evalai.statusOf(pk)).toBe('queued');
    expect((await h.store.get(pk))?.status).toBe('queued');
  });

  it('fails a submission named by a bad message when Pitwall never started it, saying the message was unreadable', async () => {
    const h = harness();
    const { pk } = h.submit();
    const bad = JSON.stringify({ challenge_pk: '203', phase_pk: '527', submission_pk: pk, submitted_image_uri: 42 });
    const registration = await registerSubmission(h.plane, {
      event: [{ messageId: 'm', receiptHandle: 'r', body: bad }],
      executionId: 'e',
    });
    const reason = registration.action === 'invalid' ? registration.reason : '';
    await handleFailure(h.plane, {
      registration,
      error: { Error: 'InvalidMessageError', Cause: reason },
      executionId: 'e',
    });
    expect(h.evalai.statusOf(pk)).toBe('failed');
    const [classLine, said] = h.evalai.resultOf(pk)?.stderr.split('\n') ?? [];
    expect(classLine).toBe(
      'Failure: an error in the evaluation backend [platform_error; a problem of the evaluation backend]',
    );
    expect(said).toMatch(/^EvalAI's message for this submission could not be read \(.*submitted_image_uri/);
  });
});

describe('Cleanup', () => {
  it("deletes its own attempt's jobs, never the next attempt's (item 4)", async () => {
    const h = harness();
    const { pk, event } = h.submit();
    const first = await h.start(event, 'exec-1');
    await h.store.transition(pk, 1, 'failed', { at: 't', patch: { evalaiReported: true } });
    h.evalai.setStatus(pk, 'resuming');
    const second = await h.start(event, 'exec-2');
    expect(second.attempt).toBe(2);
    await deleteJobs(h.plane, first); // attempt 1's Cleanup, late
    expect(h.jobs.jobsOf(pk).map((j) => j.attempt)).toEqual([2, 2]);
  });
});

describe('the sweeper', () => {
  it('fails a run whose execution died, once, and deletes its jobs', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const report = await sweepSubmissions(h.plane);
    expect(report).toMatchObject({ failed: [submission.submissionPk], errors: [] });
    expect(report.costs).toEqual([{ phasePk: 527, track: 'SENSORS', gpuHours: 0, usd: 0 }]); // no pod ever ran
    expect(h.evalai.statusOf(submission.submissionPk)).toBe('failed');
    const again = await sweepSubmissions(h.plane);
    expect(again).toMatchObject({ failed: [], costs: [] }); // counted once
  });

  it('acts on each record as it is now, not as the list had it (item 3)', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    h.executions.running.add('exec-1');
    // Between the sweeper's list and its look at the record, the run hands over to a fresh execution
    // (and the old one ends).
    const list = h.store.listActive.bind(h.store);
    h.store.listActive = async () => {
      const listed = await list();
      await h.store.patch(pk, 1, { executionId: 'exec-fresh' }, 't');
      h.executions.end('exec-1');
      h.executions.running.add('exec-fresh');
      return listed;
    };
    expect((await sweepSubmissions(h.plane)).failed).toEqual([]);
    expect(h.evalai.statusOf(pk)).toBe('queued');
    expect(h.jobs.jobsOf(pk)).toHaveLength(2);
  });

  it('never sends failed over a result EvalAI already has (item 3)', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    h.evalai.setStatus(pk, 'finished', 'PUT update_submission'); // Publish's PUT went through, then it died
    await sweepSubmissions(h.plane);
    expect(h.evalai.writesOf(pk).at(-1)?.status).toBe('finished');
    expect(await h.store.get(pk)).toMatchObject({ status: 'finished', evalaiReported: true });
  });

  it('reports a failure whose FAILED did not reach EvalAI', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    let down = true;
    h.evalai.beforeRequest = (request) => {
      if (request === 'PUT failed' && down) throw new Error('EvalAI is down');
    };
    await expect(
      handleFailure(h.plane, {
        registration: { action: 'run', submission },
        error: { Error: 'X' },
        executionId: 'exec-1',
      }),
    ).rejects.toThrow('EvalAI is down');
    expect(await h.store.get(pk)).toMatchObject({ status: 'failed', evalaiReported: false });
    down = false;
    await sweepSubmissions(h.plane);
    expect(h.evalai.statusOf(pk)).toBe('failed');
    expect(h.evalai.resultOf(pk)?.stderr).toContain('evaluation backend');
    expect(await h.store.listActive()).toEqual([]);
  });

  it('deletes the jobs no live attempt owns, once they are past the grace period, and says so', async () => {
    const h = harness();
    const live = await h.start(h.submit().event);
    h.executions.running.add('exec-1');
    const { pk, event } = h.submit();
    const finished = await h.start(event, 'exec-2');
    await h.store.transition(pk, 1, 'cancelled', { at: 't', patch: { evalaiReported: true } }); // its Cleanup never ran
    // A job of a submission Pitwall has no record of (a table restored from an old backup, say).
    const [template] = h.jobs.jobsOf(live.submissionPk);
    if (!template) throw new Error('no jobs');
    await h.jobs.launch({ ...template, name: 'stray', submissionPk: 999 });
    expect((await sweepSubmissions(h.plane)).orphans).toEqual([]); // too young to tell
    h.clock.advance(ORPHAN_GRACE_SECONDS + 1);
    const report = await sweepSubmissions(h.plane);
    expect([...report.orphans].sort()).toEqual(
      [...h.jobs.launches.filter((s) => s.submissionPk === finished.submissionPk).map((s) => s.name), 'stray'].sort(),
    );
    expect(h.jobs.jobsOf(live.submissionPk)).toHaveLength(2);
  });

  it('whatever the order of a run and a sweep, a finished run stays finished and nothing is failed twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 7 }), fc.boolean(), async (sweepAfter, executionAlive) => {
        const h = harness();
        const { event } = h.submit();
        const registration = await registerSubmission(h.plane, { event, executionId: 'exec-1' });
        if (registration.action !== 'run') throw new Error('expected run');
        const { submission } = registration;
        const pk = submission.submissionPk;
        if (executionAlive) h.executions.running.add('exec-1');
        const steps: (() => Promise<unknown>)[] = [
          () => planSubmission(h.plane, submission),
          async () => {
            for (const worker of [0, 1]) await launchWorker(h.plane, { submission, worker });
          },
          () => markQueued(h.plane, submission),
          () => h.finishWorkers(submission),
          async () => {
            const poll = await observeSubmission(h.plane, { submission });
            const outcome = await collectResults(h.plane, { submission, poll });
            await publishOutcome(h.plane, { submission, outcome });
          },
        ];
        let swept = false;
        for (const [i, step] of steps.entries()) {
          if (i === sweepAfter) {
            await sweepSubmissions(h.plane);
            swept = true;
          }
          try {
            await step();
          } catch {
            break; // the run was failed under it: its execution would go to HandleFailure, which sees that
          }
        }
        if (!swept) await sweepSubmissions(h.plane);
        const writes = h.evalai.writesOf(pk).map((w) => w.status);
        const terminal = writes.filter((s) => s === 'finished' || s === 'failed');
        expect(terminal.length).toBeLessThanOrEqual(1);
        if (executionAlive) expect(writes.at(-1)).toBe('finished');
        const record = await h.store.get(pk);
        if (terminal.length === 1) expect(record?.status).toBe(terminal[0]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('the sweeper’s census', () => {
  it('counts the submissions not yet ended by status, and the workers of the running ones', async () => {
    const h = harness();
    const running = await h.start(h.submit().event, 'e-1');
    h.runWorkers(running.submissionPk);
    await observeSubmission(h.plane, { submission: running });
    await h.start(h.submit().event, 'e-2');
    h.executions.running.add('e-1');
    h.executions.running.add('e-2');
    const report = await sweepSubmissions(h.plane);
    expect(report.activeByStatus).toEqual({ running: 1, queued: 1 });
    expect(report.workersRunning).toBe(2);
  });
});
