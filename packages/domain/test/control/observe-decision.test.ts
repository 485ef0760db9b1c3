import { describe, expect, it } from '@jest/globals';
import { type JobObservation, judgeLook, trackOf } from '../../src/index.js';
import { harness } from './harness.js';

// Observe's verdict on its own: what one look read in, whether the run ends (and why) out. The workers
// after the states given take the last one.

async function look(
  jobStates: readonly JobObservation['state'][],
  extra: { cancelled?: boolean; pastSeconds?: number } = {},
) {
  const h = harness();
  const submission = await h.start(h.submit().event);
  const record = await h.store.get(submission.submissionPk);
  const workers = record?.plan?.workers ?? [];
  if (!record || workers.length < 2) throw new Error('no plan of two workers or more');
  const jobs = workers.map((w, i) => ({
    name: w.jobName,
    state: jobStates[i] ?? jobStates.at(-1) ?? 'running',
    containers: [],
  }));
  const now = new Date(Date.parse(record.deadline) + (extra.pastSeconds ?? -60) * 1000);
  return judgeLook({
    record,
    submission,
    workers,
    jobs,
    activity: [],
    track: trackOf(h.plane.config, submission.phasePk),
    cancelled: extra.cancelled ?? false,
    now,
  });
}

describe('judgeLook', () => {
  it('goes on while workers run, and says done once every Job succeeded', async () => {
    expect(await look(['running', 'succeeded'])).toEqual({ done: false, started: true });
    expect(await look(['succeeded'])).toEqual({ done: true, started: true });
  });

  it('ends a cancelled run first, before its deadline or a failed worker', async () => {
    const verdict = await look(['failed'], { cancelled: true, pastSeconds: 60 });
    expect(verdict.end).toMatchObject({ phase: 'cancelled', failure: { failureClass: 'cancelled' } });
  });

  it('times out a run past its deadline, but not one whose workers are all done', async () => {
    expect((await look(['running'], { pastSeconds: 1 })).end).toMatchObject({
      phase: 'timed_out',
      failure: { failureClass: 'time_limit' },
    });
    expect((await look(['succeeded'], { pastSeconds: 1 })).end).toBeUndefined();
  });

  it('fails a run whose Job is gone as the platform’s, naming the worker', async () => {
    const verdict = await look(['running', 'missing']);
    expect(verdict.end).toMatchObject({
      phase: 'failed',
      failure: {
        failureClass: 'platform_error',
        reason: 'The evaluation failed. worker 1: its job disappeared from the cluster.',
      },
      failedWorkers: [1],
    });
  });
});
