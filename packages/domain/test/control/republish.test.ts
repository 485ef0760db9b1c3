import { describe, expect, it } from '@jest/globals';
import {
  collectResults,
  OperatorActionRefusedError,
  observeSubmission,
  publishOutcome,
  republishResult,
} from '../../src/index.js';
import { harness } from './harness.js';

// A host sends a stored result to EvalAI again (EvalAI lost it, or an admin changed the status by hand):
// the same files Publish sent, never over a cancel, never for a run that has not ended.

async function published(h: ReturnType<typeof harness>) {
  const submission = await h.start(h.submit().event);
  await h.finishWorkers(submission);
  const poll = await observeSubmission(h.plane, { submission });
  const outcome = await collectResults(h.plane, { submission, poll });
  await publishOutcome(h.plane, { submission, outcome });
  return submission.submissionPk;
}

describe('republish', () => {
  it('sends the stored result again, with the same files, and leaves the record as it was', async () => {
    const h = harness();
    const pk = await published(h);
    const first = h.evalai.resultOf(pk);
    h.evalai.setStatus(pk, 'failed'); // an admin's mistake on EvalAI
    const before = await h.store.get(pk);
    expect(await republishResult(h.plane, pk)).toEqual({ status: 'finished' });
    expect(h.evalai.statusOf(pk)).toBe('finished');
    expect(h.evalai.resultOf(pk)).toEqual(first);
    expect(await h.store.get(pk)).toEqual(before);
  });

  it('refuses over a cancel on EvalAI, and for a run that has not ended, saying why', async () => {
    const h = harness();
    const pk = await published(h);
    h.evalai.setStatus(pk, 'cancelled');
    await expect(republishResult(h.plane, pk)).rejects.toThrow(
      new OperatorActionRefusedError(
        `submission ${pk} is cancelled on EvalAI: a result is never written over a cancel`,
      ),
    );
    expect(h.evalai.statusOf(pk)).toBe('cancelled');

    const running = await h.start(h.submit().event);
    await expect(republishResult(h.plane, running.submissionPk)).rejects.toThrow(
      `submission ${running.submissionPk} is queued: its result is published when its run ends`,
    );
    await expect(republishResult(h.plane, 999)).rejects.toThrow('no submission 999');
  });
});
