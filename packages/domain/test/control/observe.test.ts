import { describe, expect, it } from '@jest/globals';
import { artifactKeys, observeSubmission, UNRECOVERABLE_GRACE_SECONDS } from '../../src/index.js';
import { checkpointText } from '../../src/testing/index.js';
import { harness, withTrack } from './harness.js';

describe('Observe', () => {
  it('PATCHes running once a worker starts, after a fresh read', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    h.runWorkers(submission.submissionPk);
    const requests: string[] = [];
    h.evalai.beforeRequest = (request) => void requests.push(request);
    expect(await observeSubmission(h.plane, { submission })).toMatchObject({ phase: 'running', turn: 1 });
    expect(requests).toEqual(['GET list cancelled', 'GET submission', 'PATCH running']); // the watch's turn first
    expect((await h.store.get(submission.submissionPk))?.status).toBe('running');
  });

  it('calls a run whose workers all finished done, even past its deadline (item 7)', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    await h.finishWorkers(submission);
    h.clock.advance(3601);
    expect((await observeSubmission(h.plane, { submission })).phase).toBe('done');
  });

  it('stops a run past its deadline whose workers are not done', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    h.runWorkers(submission.submissionPk);
    await observeSubmission(h.plane, { submission });
    h.clock.advance(3601);
    expect(await observeSubmission(h.plane, { submission, poll: { turn: 1 } })).toMatchObject({
      phase: 'timed_out',
      reason: 'Time limit exceeded: the evaluation did not finish within 3600 seconds.',
    });
  });

  it('sees a cancel that lands while the cluster is asked, and writes nothing', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    h.runWorkers(pk);
    h.jobs.onObserve = () => h.evalai.setStatus(pk, 'cancelled');
    expect((await observeSubmission(h.plane, { submission })).phase).toBe('cancelled');
    expect(h.evalai.writesOf(pk).at(-1)).toEqual({ via: 'participant', status: 'cancelled' });
  });

  it('sends no partial results where the phase has no partial evaluation, and records progress', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    const record = await h.store.get(pk);
    const first = record?.plan?.workers[0];
    if (!first) throw new Error('no plan');
    h.jobs.setState(first.jobName, 'running');
    await h.artifacts.put(artifactKeys.checkpoint(pk, 0), checkpointText(first.routeIds, 3));
    await observeSubmission(h.plane, { submission });
    expect(h.evalai.writesOf(pk).map((w) => w.status)).toEqual(['queued', 'running']);
    expect((await h.store.get(pk))?.progress).toEqual({ done: 3, total: 20 });
  });

  it('sends partial results once per change where the phase has partial evaluation', async () => {
    const h = harness(withTrack({ partialEvaluation: true }));
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    const first = (await h.store.get(pk))?.plan?.workers[0];
    if (!first) throw new Error('no plan');
    h.jobs.setState(first.jobName, 'running');
    await h.artifacts.put(artifactKeys.checkpoint(pk, 0), checkpointText(first.routeIds, 3));
    await observeSubmission(h.plane, { submission });
    await observeSubmission(h.plane, { submission, poll: { turn: 1 } });
    expect(h.evalai.writesOf(pk).filter((w) => w.status === 'partially_evaluated')).toHaveLength(1);
  });

  it('fails a worker whose image cannot be pulled, past a short grace, instead of holding a GPU node', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const [first, second] = h.jobs.jobsOf(submission.submissionPk);
    if (!first || !second) throw new Error('no jobs');
    const since = h.clock.now().toISOString();
    h.jobs.setState(second.name, 'running');
    h.jobs.setState(first.name, 'pending', {
      containers: [
        {
          name: 'agent',
          restarts: 0,
          waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image', since },
        },
      ],
    });
    h.clock.advance(UNRECOVERABLE_GRACE_SECONDS - 1);
    expect((await observeSubmission(h.plane, { submission })).phase).toBe('running'); // a pull may still succeed
    h.clock.advance(2);
    expect(await observeSubmission(h.plane, { submission, poll: { turn: 1 } })).toMatchObject({
      phase: 'failed',
      failedWorkers: [0],
      reason: `The evaluation failed. worker 0: The image ${submission.imageUri} could not be pulled: ImagePullBackOff: Back-off pulling image.`,
      failureClass: 'image_pull',
    });
  });

  it("says so when one of the backend's own containers cannot start", async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const [first] = h.jobs.jobsOf(submission.submissionPk);
    if (!first) throw new Error('no jobs');
    const since = h.clock.now().toISOString();
    h.jobs.setState(first.name, 'pending', {
      containers: [{ name: 'simulator', restarts: 0, waiting: { reason: 'ErrImagePull', since } }],
    });
    h.clock.advance(UNRECOVERABLE_GRACE_SECONDS + 1);
    const poll = await observeSubmission(h.plane, { submission });
    expect(poll.reason).toContain(
      'the simulator container could not start (ErrImagePull); this is a problem of the evaluation backend',
    );
    expect(poll.failureClass).toBe('platform_error');
  });

  it("stops a running agent whose output logcopy has not seen change for the track's idle limit", async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    h.runWorkers(pk);
    const lastOutputAt = h.clock.now().toISOString();
    h.store.recordActivity(pk, { worker: 1, attempt: 1, heartbeatAt: lastOutputAt, lastOutputAt });
    h.store.recordActivity(pk, { worker: 0, attempt: 0, heartbeatAt: lastOutputAt, lastOutputAt }); // another attempt's
    h.clock.advance(800);
    expect((await observeSubmission(h.plane, { submission })).phase).toBe('running');
    h.clock.advance(12);
    expect(await observeSubmission(h.plane, { submission, poll: { turn: 1 } })).toMatchObject({
      phase: 'failed',
      failedWorkers: [1],
      reason:
        'The evaluation failed. worker 1: The agent produced no output for 812 s (the limit is 800 s) and was stopped.',
      failureClass: 'agent_idle',
    });
  });

  it('carries the hand-over count from turn to turn', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    expect(await observeSubmission(h.plane, { submission, poll: { turn: 4, handovers: 2 } })).toMatchObject({
      turn: 5,
      handovers: 2,
    });
  });
});
