import { describe, expect, it } from '@jest/globals';
import {
  cancelAsHost,
  EvalAiRejectedError,
  failSubmission,
  OperatorActionRefusedError,
  observeSubmission,
  parseSubmissionMessage,
  registerSubmission,
  requeueSubmission,
  resumeSubmission,
} from '../../src/index.js';
import { harness, PHASE_PK } from './harness.js';

// The host's resume and requeue: each does one thing EvalAI or the queue would have done, and refuses in
// one line whatever would break a rule.

async function failedRun(h: ReturnType<typeof harness>) {
  const submission = await h.start(h.submit().event);
  const record = await h.store.get(submission.submissionPk);
  if (!record) throw new Error('no record');
  await failSubmission(h.plane, record, { reason: 'The simulator crashed.', failureClass: 'simulator_crashed' });
  return submission.submissionPk;
}

describe('resume', () => {
  it('asks EvalAI to resume a failed run; its message then begins attempt 2', async () => {
    const h = harness();
    const pk = await failedRun(h);
    expect(await resumeSubmission(h.plane, pk)).toEqual({ attempt: 2 });
    expect(h.evalai.statusOf(pk)).toBe('resuming');
    expect(h.evalai.resumed).toEqual([pk]);
    // EvalAI's resume publishes the same keys as the push did.
    const registration = await registerSubmission(h.plane, {
      event: h.resumeEvent(pk),
      executionId: 'exec-2',
    });
    expect(registration).toMatchObject({ action: 'run', submission: { submissionPk: pk, attempt: 2 } });
  });

  it('refuses a run that has not failed, here or on EvalAI, and a cancel', async () => {
    const h = harness();
    const running = await h.start(h.submit().event);
    await expect(resumeSubmission(h.plane, running.submissionPk)).rejects.toThrow(
      new OperatorActionRefusedError(`submission ${running.submissionPk} is queued: only a failed submission resumes`),
    );
    const pk = await failedRun(h);
    h.evalai.setStatus(pk, 'cancelled');
    await expect(resumeSubmission(h.plane, pk)).rejects.toThrow(
      `submission ${pk} is cancelled on EvalAI: EvalAI resumes only a failed submission`,
    );
    expect(h.evalai.resumed).toEqual([]);
    await expect(resumeSubmission(h.plane, 999)).rejects.toThrow('no submission 999');
  });
});

describe('resume on a challenge that does not allow it', () => {
  it('says what the hosts must set, in one line', async () => {
    const h = harness();
    const pk = await failedRun(h);
    h.evalai.beforeRequest = (request) => {
      if (request === 'POST resume') {
        throw new EvalAiRejectedError('EvalAI refused POST resume (406): does not allow resuming submissions.', 406);
      }
    };
    const refused = resumeSubmission(h.plane, pk);
    await expect(refused).rejects.toBeInstanceOf(OperatorActionRefusedError);
    await expect(refused).rejects.toThrow(
      `EvalAI refused to resume submission ${pk}: its challenge does not allow resuming submissions (the hosts set allow_resuming_submissions in the challenge's configuration on EvalAI)`,
    );
  });
});

describe('requeue', () => {
  it('re-sends the message of a submission that never started, once per request', async () => {
    const h = harness();
    const { pk } = h.submit(); // its message lost on the way
    expect(await requeueSubmission(h.plane, pk)).toEqual({ attempt: 1 });
    h.clock.advance(1);
    await requeueSubmission(h.plane, pk);
    expect(h.queue.sent).toHaveLength(2);
    expect(new Set(h.queue.sent.map((m) => m.deduplicationId)).size).toBe(2);
    expect(parseSubmissionMessage(h.queue.sent[0]?.body ?? '')).toMatchObject({ submissionPk: pk, phasePk: PHASE_PK });
  });

  it('re-sends a resume whose message was lost as the next attempt', async () => {
    const h = harness();
    const pk = await failedRun(h);
    h.evalai.setStatus(pk, 'resuming'); // resumed on EvalAI; Pitwall never heard
    expect(await requeueSubmission(h.plane, pk)).toEqual({ attempt: 2 });
  });

  it('refuses a submission that has begun, one EvalAI shows elsewhere, and another phase', async () => {
    const h = harness();
    const started = await h.start(h.submit().event);
    h.evalai.setStatus(started.submissionPk, 'submitted'); // an admin's edit: the run is still Pitwall's
    await expect(requeueSubmission(h.plane, started.submissionPk)).rejects.toThrow(
      `submission ${started.submissionPk} has begun (attempt 1, queued): its message arrived; requeue would start nothing`,
    );
    const finished = h.submit().pk;
    h.evalai.setStatus(finished, 'finished');
    await expect(requeueSubmission(h.plane, finished)).rejects.toThrow(
      `submission ${finished} is finished on EvalAI: requeue re-sends only the message of a submission waiting to start`,
    );
    const elsewhere = h.submit(999).pk;
    await expect(requeueSubmission(h.plane, elsewhere)).rejects.toThrow(
      `submission ${elsewhere} is in phase 999, which this Pitwall does not evaluate`,
    );
    expect(h.queue.sent).toEqual([]);
  });
});

describe('cancel, as the hosts', () => {
  it('is refused for a run Pitwall ended whose end EvalAI has not been told yet', async () => {
    const h = harness();
    const running = await h.start(h.submit().event);
    await h.store.transition(running.submissionPk, running.attempt, 'failed', { at: new Date().toISOString() });
    expect(h.evalai.statusOf(running.submissionPk)).not.toBe('failed');
    await expect(cancelAsHost(h.plane, running.submissionPk)).rejects.toThrow(
      new OperatorActionRefusedError(
        `submission ${running.submissionPk} is failed in Pitwall (EvalAI shows ${h.evalai.statusOf(running.submissionPk)} until it is told): there is nothing to cancel`,
      ),
    );
    expect(h.evalai.writesOf(running.submissionPk).at(-1)?.status).not.toBe('cancelled');
  });

  it('puts CANCELLED on EvalAI, which the status watch then ends the run on; an ended one is refused', async () => {
    const h = harness();
    const running = await h.start(h.submit().event);
    await cancelAsHost(h.plane, running.submissionPk);
    expect(h.evalai.writesOf(running.submissionPk).at(-1)).toEqual({
      via: 'PUT update_submission',
      status: 'cancelled',
    });
    expect((await observeSubmission(h.plane, { submission: running })).phase).toBe('cancelled');
    await expect(cancelAsHost(h.plane, running.submissionPk)).rejects.toThrow(
      new OperatorActionRefusedError(
        `submission ${running.submissionPk} is cancelled on EvalAI: there is nothing to cancel`,
      ),
    );
  });
});
