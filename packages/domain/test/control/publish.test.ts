import { describe, expect, it } from '@jest/globals';
import {
  artifactKeys,
  collectResults,
  handleFailure,
  observeSubmission,
  type PodRun,
  publishOutcome,
} from '../../src/index.js';
import { harness, QUALIFIER_PHASE_PK, TransientOutage } from './harness.js';

/** A run to the point where Collect has stored everything and Publish is next (each worker's pod an hour long). */
async function collected(
  h: ReturnType<typeof harness>,
  phasePk?: number,
  pod: (startedAt: string, endedAt: string) => PodRun = (startedAt, endedAt) => ({ startedAt, endedAt }),
) {
  const submission = await h.start(h.submit(phasePk).event);
  const startedAt = h.clock.now().toISOString();
  const endedAt = new Date(h.clock.now().getTime() + 3_600_000).toISOString();
  for (const job of h.jobs.jobsOf(submission.submissionPk)) {
    h.jobs.setState(job.name, 'running', { pods: [pod(startedAt, endedAt)] });
  }
  await h.finishWorkers(submission);
  const poll = await observeSubmission(h.plane, { submission });
  const outcome = await collectResults(h.plane, { submission, poll });
  return { submission, outcome, pk: submission.submissionPk };
}

describe('Collect and Publish', () => {
  it('publishes FINISHED with the merged result, settles the record, and says what the attempt cost', async () => {
    const h = harness({ prices: { 'g5.2xlarge': { onDemand: 1.2, spot: 0.4 } } });
    const { submission, outcome, pk } = await collected(h, undefined, (startedAt, endedAt) => ({
      startedAt,
      endedAt,
      instanceType: 'g5.2xlarge',
      capacityType: 'spot',
    }));
    expect(outcome.status).toBe('finished');
    // Two workers of an hour each on spot, at the stage's prices.
    expect(await publishOutcome(h.plane, { submission, outcome })).toEqual({
      status: 'finished',
      cost: { phasePk: 527, track: 'SENSORS', gpuHours: 2, usd: 0.8 },
    });
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
    expect(await publishOutcome(h.plane, { submission, outcome })).toMatchObject({ status: 'cancelled' });
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
    expect(failure).toMatchObject({ status: 'finished' });
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
