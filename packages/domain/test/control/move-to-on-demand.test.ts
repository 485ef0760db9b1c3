import { describe, expect, it } from '@jest/globals';
import { deleteJobs, observeSubmission, type SubmissionRef } from '../../src/index.js';
import { harness, withTrack } from './harness.js';

const spotPod = (startedAt: string, endedAt?: string) => ({
  startedAt,
  ...(endedAt ? { endedAt } : {}),
  instanceType: 'g5.2xlarge',
  capacityType: 'spot' as const,
});

/** A spot-first run whose worker 0 has lost `lost` nodes, its current pod running since the last loss. */
async function interrupted(h: ReturnType<typeof harness>, submission: SubmissionRef, lost: number) {
  const [first, second] = h.jobs.jobsOf(submission.submissionPk);
  const at = h.clock.now().toISOString();
  const ended = Array.from({ length: lost }, () => spotPod(at, at));
  h.jobs.setState(first?.name ?? '', 'running', { interruptions: lost, pods: [...ended, spotPod(at)] });
  h.jobs.setState(second?.name ?? '', 'running', { pods: [spotPod(at)] });
}

describe('a spot-first worker that keeps losing its node', () => {
  it('moves to on demand, in a Job of its own, once it lost more nodes than the track allows', async () => {
    const h = harness(withTrack({ capacity: 'spot-first', maxInterruptions: 1 }));
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    const [spotJob] = h.jobs.jobsOf(pk);
    expect(h.jobs.jobsOf(pk).map((s) => s.capacity)).toEqual(['spot-first', 'spot-first']);

    await interrupted(h, submission, 1);
    await observeSubmission(h.plane, { submission });
    expect(h.jobs.launches).toHaveLength(2); // one loss is within the allowance

    await interrupted(h, submission, 2);
    h.clock.advance(60);
    await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    const moved = h.jobs.launches.at(-1);
    expect(h.jobs.launches).toHaveLength(3);
    expect(moved).toMatchObject({ worker: 0, capacity: 'on-demand', resume: true });
    expect(moved?.name).toMatch(/-w0-od-[a-z2-7]{10}$/);
    expect(h.jobs.deletions).toEqual([spotJob?.name]);
    const record = await h.store.get(pk);
    expect(record?.plan?.workers.map((w) => w.jobName)).toEqual([moved?.name, h.jobs.jobsOf(pk)[1]?.name]);
    expect(record?.plan?.workers[0]?.onDemandSince).toBe(h.clock.now().toISOString());
    // The spot Job's last pod ends at the move (no later Observe sees it), its GPU time counted to then.
    const spotUsage = record?.usage?.find((u) => u.job === spotJob?.name);
    expect(spotUsage?.pods.every((pod) => pod.endedAt)).toBe(true);
    expect(spotUsage?.pods.at(-1)?.endedAt).toBe(h.clock.now().toISOString());

    // The moved worker stays where it is: the next turns launch nothing, and the run ends as any other.
    h.jobs.setState(moved?.name ?? '', 'running', { pods: [{ startedAt: h.clock.now().toISOString() }] });
    await observeSubmission(h.plane, { submission, poll: { turn: 2 } });
    expect(h.jobs.launches).toHaveLength(3);
    await h.finishWorkers(submission);
    expect((await observeSubmission(h.plane, { submission, poll: { turn: 3 } })).phase).toBe('done');
    expect((await h.store.get(pk))?.usage?.map((u) => u.job).sort()).toEqual(
      [spotJob?.name, moved?.name, h.jobs.jobsOf(pk)[1]?.name].sort(),
    );
    await deleteJobs(h.plane, submission);
    expect(h.jobs.jobsOf(pk)).toEqual([]); // the moved Job too
  });

  it('starts the on-demand Job only once the spot Job is gone, so no pod restores before its last flush', async () => {
    const h = harness(withTrack({ capacity: 'spot-first', maxInterruptions: 1 }));
    h.jobs.foregroundDeletion = true; // a deleted Job stays while its pod ends in its grace
    const submission = await h.start(h.submit().event);
    const [spotJob] = h.jobs.jobsOf(submission.submissionPk);
    await interrupted(h, submission, 2);
    await observeSubmission(h.plane, { submission });
    expect(h.jobs.deletions).toEqual([spotJob?.name]);
    expect(h.jobs.launches).toHaveLength(2); // the spot Job is still ending
    h.clock.advance(60);
    await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    expect(h.jobs.launches).toHaveLength(2);
    h.jobs.endDeletions();
    await observeSubmission(h.plane, { submission, poll: { turn: 2 } });
    expect(h.jobs.launches.at(-1)).toMatchObject({ worker: 0, capacity: 'on-demand', resume: true });
    expect(h.jobs.launches).toHaveLength(3);
  });

  it('leaves a spot track on spot and an on-demand track alone, however many nodes they lose', async () => {
    for (const capacity of ['spot', 'on-demand']) {
      const h = harness(withTrack({ capacity, maxInterruptions: 0 }));
      const submission = await h.start(h.submit().event);
      await interrupted(h, submission, 5);
      await observeSubmission(h.plane, { submission });
      expect(h.jobs.launches.map((s) => s.capacity)).toEqual([capacity, capacity]);
      expect(h.jobs.deletions).toEqual([]);
    }
  });

  it('moves a worker that loses a node near its deadline at once', async () => {
    const h = harness(withTrack({ capacity: 'spot-first', maxInterruptions: 5, onDemandWithinSeconds: 1800 }));
    const submission = await h.start(h.submit().event);
    await interrupted(h, submission, 1);
    await observeSubmission(h.plane, { submission }); // running: its deadline is an hour away
    expect(h.jobs.launches).toHaveLength(2);
    h.clock.advance(1900);
    await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    expect(h.jobs.launches.at(-1)).toMatchObject({ worker: 0, capacity: 'on-demand' });
  });

  it('launches the moved Job on the next turn when the turn that moved it stopped first', async () => {
    const h = harness(withTrack({ capacity: 'spot-first', maxInterruptions: 0 }));
    const submission = await h.start(h.submit().event);
    await interrupted(h, submission, 1);
    const launch = h.jobs.launch.bind(h.jobs);
    h.jobs.launch = async () => {
      throw new Error('the API server is unavailable');
    };
    await expect(observeSubmission(h.plane, { submission })).rejects.toThrow('the API server is unavailable');
    h.jobs.launch = launch;
    // The plan already names the new Job, which is not there: launched now, not taken for a vanished Job.
    const state = await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    expect(state.phase).toBe('running');
    expect(h.jobs.launches.at(-1)).toMatchObject({ worker: 0, capacity: 'on-demand' });
    const moved = (await h.store.get(submission.submissionPk))?.plan?.workers[0]?.jobName;
    expect(h.jobs.jobsOf(submission.submissionPk).map((s) => s.name)).toContain(moved);
  });
});
