import { describe, expect, it } from '@jest/globals';
import { observeSubmission, registerSubmission, sweepSubmissions } from '../../src/index.js';
import { harness, withTrack } from './harness.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('the time limit counts evaluation time only', () => {
  it('starts when the first worker pod runs: hours waiting for a GPU do not count', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    h.clock.advance(5 * HOUR); // pods pending: no GPU node yet
    expect((await observeSubmission(h.plane, { submission })).phase).toBe('running');
    h.runWorkers(pk);
    await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    const started = h.clock.now().getTime();
    expect(Date.parse((await h.store.get(pk))?.deadline ?? '')).toBe(started + HOUR * 1000);
    h.clock.advance(HOUR - 1);
    expect((await observeSubmission(h.plane, { submission, poll: { turn: 2 } })).phase).toBe('running');
    h.clock.advance(2);
    expect(await observeSubmission(h.plane, { submission, poll: { turn: 3 } })).toMatchObject({
      phase: 'timed_out',
      reason: 'Time limit exceeded: the evaluation did not finish within 3600 seconds.',
    });
  });

  it('gives up waiting for capacity after the track’s queue timeout (24 h by default), saying so', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    h.clock.advance(DAY - 1);
    expect((await observeSubmission(h.plane, { submission })).phase).toBe('running');
    h.clock.advance(2);
    expect(await observeSubmission(h.plane, { submission, poll: { turn: 1 } })).toMatchObject({
      phase: 'timed_out',
      reason: 'No GPU became available within 86400 seconds: the evaluation could not start. Please resubmit later.',
    });
  });

  it('gives each Job room for the queue timeout and the time limit both', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    for (const job of h.jobs.jobsOf(submission.submissionPk)) {
      expect(job.activeDeadlineSeconds).toBe(DAY + HOUR + 300);
    }
  });

  it('lets a resumed attempt keep the evaluation time the earlier one used', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    const first = await h.start(event, 'e1');
    h.runWorkers(pk);
    await observeSubmission(h.plane, { submission: first });
    h.clock.advance(1000);
    await h.store.transition(pk, 1, 'failed', { at: h.clock.now().toISOString(), patch: { evalaiReported: true } });
    h.evalai.setStatus(pk, 'resuming');
    h.clock.advance(7 * HOUR); // the host resumes it later; none of this is evaluation time
    const second = await h.start(event, 'e2');
    expect(second.attempt).toBe(2);
    for (const job of h.jobs.jobsOf(pk).filter((j) => j.attempt === 2)) {
      expect(job.activeDeadlineSeconds).toBe(DAY + (HOUR - 1000) + 300);
    }
    h.runWorkers(pk);
    await observeSubmission(h.plane, { submission: second });
    expect(Date.parse((await h.store.get(pk))?.deadline ?? '')).toBe(h.clock.now().getTime() + (HOUR - 1000) * 1000);
  });

  it('has the sweeper agree: a run waiting for capacity is not stuck, a started one past its limit is', async () => {
    const h = harness();
    const waiting = await h.start(h.submit().event, 'e1');
    const started = await h.start(h.submit().event, 'e2');
    h.runWorkers(started.submissionPk);
    await observeSubmission(h.plane, { submission: started });
    h.executions.running.add('e1');
    h.executions.running.add('e2');
    h.clock.advance(HOUR + 901);
    const report = await sweepSubmissions(h.plane);
    expect(report.failed).toEqual([started.submissionPk]);
    expect((await h.store.get(waiting.submissionPk))?.status).toBe('queued');
  });

  it('takes the track’s own queue timeout', async () => {
    const h = harness(withTrack({ queueTimeoutSeconds: 7200 }));
    const submission = await h.start(h.submit().event);
    h.clock.advance(7201);
    expect((await observeSubmission(h.plane, { submission })).reason).toContain(
      'No GPU became available within 7200 seconds',
    );
  });
});

describe('registration', () => {
  it('records when the participant submitted, as EvalAI says, for the status watch', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    await registerSubmission(h.plane, { event, executionId: 'e' });
    expect((await h.store.get(pk))?.submittedAt).toBe((await h.evalai.getSubmission(pk)).submittedAt);
  });
});
