import { describe, expect, it } from '@jest/globals';
import { artifactKeys, collectResults, handleFailure, observeSubmission, publishOutcome } from '../../src/index.js';
import { harness, QUALIFIER_PHASE_PK, TransientOutage } from './harness.js';

/** A run to the point where Collect has stored everything and Publish is next. */
async function collected(h: ReturnType<typeof harness>, phasePk?: number) {
  const submission = await h.start(h.submit(phasePk).event);
  await h.finishWorkers(submission);
  const poll = await observeSubmission(h.plane, { submission });
  const outcome = await collectResults(h.plane, { submission, poll });
  return { submission, outcome, pk: submission.submissionPk };
}

describe('Collect and Publish', () => {
  it('publishes FINISHED with the merged result and settles the record', async () => {
    const h = harness();
    const { submission, outcome, pk } = await collected(h);
    expect(outcome.status).toBe('finished');
    expect(await publishOutcome(h.plane, { submission, outcome })).toEqual({ status: 'finished' });
    expect(h.evalai.statusOf(pk)).toBe('finished');
    expect(JSON.parse(h.evalai.resultOf(pk)?.result ?? '[]')[0].accuracies['Driving score']).toBe(75);
    expect(await h.store.get(pk)).toMatchObject({ status: 'finished', evalaiReported: true });
    expect(await h.store.listActive()).toEqual([]);
  });

  it('reads its stored files before the status read, so a cancel meanwhile is seen and stands', async () => {
    const h = harness();
    const { submission, outcome, pk } = await collected(h);
    h.artifacts.beforeAccess = (operation, key) => {
      if (operation === 'get' && key === artifactKeys.evalai(pk, 'result.json')) h.evalai.setStatus(pk, 'cancelled');
    };
    expect(await publishOutcome(h.plane, { submission, outcome })).toEqual({ status: 'cancelled' });
    expect(h.evalai.writesOf(pk).at(-1)?.via).toBe('participant');
  });

  it('keeps a qualification whose first grant failed: the retry grants it (item 6)', async () => {
    const h = harness();
    const { submission, outcome } = await collected(h, QUALIFIER_PHASE_PK);
    expect(outcome.grantsQualification).toBe('SENSORS');
    let failOnce = true;
    h.store.beforeWrite = (operation) => {
      if (operation === 'grantQualification' && failOnce) {
        failOnce = false;
        throw new TransientOutage('DynamoDB is busy');
      }
    };
    await expect(publishOutcome(h.plane, { submission, outcome })).rejects.toThrow(TransientOutage);
    await publishOutcome(h.plane, { submission, outcome }); // the state machine's retry
    expect(await h.store.hasQualification(submission.teamPk, 'SENSORS')).toBe(true);
  });

  it('leaves a published result alone when an error after the PUT sends the run to HandleFailure (item 2)', async () => {
    const h = harness();
    const { submission, outcome, pk } = await collected(h);
    h.store.beforeWrite = (operation) => {
      if (operation.startsWith('transition:finished')) throw new TransientOutage('the Lambda timed out');
    };
    await expect(publishOutcome(h.plane, { submission, outcome })).rejects.toThrow(TransientOutage);
    expect(h.evalai.statusOf(pk)).toBe('finished');
    h.store.beforeWrite = undefined;
    const failure = await handleFailure(h.plane, {
      registration: { action: 'run', submission },
      error: { Error: 'States.Timeout' },
      executionId: 'exec-1',
    });
    expect(failure).toEqual({ status: 'finished' });
    expect(h.evalai.statusOf(pk)).toBe('finished');
    expect(h.evalai.writesOf(pk).map((w) => w.status)).toEqual(['queued', 'running', 'finished']);
    expect(await h.store.get(pk)).toMatchObject({ status: 'finished', evalaiReported: true });
  });

  it('writes the cancel marker of its own attempt only, so a resume is not stopped by it (item 5)', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    h.runWorkers(pk);
    await observeSubmission(h.plane, { submission });
    h.clock.advance(3601);
    const poll = await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    await collectResults(h.plane, { submission, poll });
    expect(await h.artifacts.get(artifactKeys.cancel(pk, 1))).toContain('Time limit exceeded');
    expect(await h.artifacts.get(artifactKeys.cancel(pk, 2))).toBeUndefined();
  });
});
