import { describe, expect, it } from '@jest/globals';
import { artifactKeys, EvalAiUnavailableError, observeSubmission, type SubmissionRef } from '../../src/index.js';
import { checkpointText } from '../../src/testing/index.js';
import { harness, withTrack } from './harness.js';

/** Submissions whose workers run and which EvalAI already shows as running. */
async function running(h: ReturnType<typeof harness>, count: number): Promise<SubmissionRef[]> {
  const submissions: SubmissionRef[] = [];
  for (let i = 0; i < count; i++) {
    const submission = await h.start(h.submit().event, `exec-${i}`);
    h.runWorkers(submission.submissionPk);
    await observeSubmission(h.plane, { submission });
    submissions.push(submission);
  }
  return submissions;
}

const requestsDuring = async (h: ReturnType<typeof harness>, step: () => Promise<unknown>) => {
  const requests: string[] = [];
  h.evalai.beforeRequest = (request) => void requests.push(request);
  await step();
  h.evalai.beforeRequest = undefined;
  return requests;
};

describe('one status watch per challenge', () => {
  it('asks EvalAI for the challenge’s cancels once per poll period, however many submissions are observed', async () => {
    const h = harness();
    const submissions = await running(h, 5);
    h.clock.advance(30);
    const observeAll = async (turn: number) => {
      for (const submission of submissions) await observeSubmission(h.plane, { submission, poll: { turn } });
    };
    expect(await requestsDuring(h, () => observeAll(1).then(() => observeAll(2)))).toEqual(['GET list cancelled']);
    h.clock.advance(30);
    expect(await requestsDuring(h, () => observeAll(3))).toEqual(['GET list cancelled']);
  });

  it('looks back only as far as the oldest active submission was submitted', async () => {
    const h = harness();
    const old = h.submit();
    h.clock.advance(600);
    await running(h, 2);
    await h.start(old.event, 'exec-old');
    const since: (string | undefined)[] = [];
    const list = h.evalai.listSubmissions.bind(h.evalai);
    h.evalai.listSubmissions = (challengePk, status, options) => {
      since.push(options?.submittedAfter);
      return list(challengePk, status, options);
    };
    h.clock.advance(30);
    const submission = (await h.store.get(old.pk)) as SubmissionRef;
    await observeSubmission(h.plane, { submission });
    const submittedAt = (await h.evalai.getSubmission(old.pk)).submittedAt ?? '';
    expect(since).toHaveLength(1);
    expect(Date.parse(since[0] ?? '')).toBeLessThan(Date.parse(submittedAt));
  });

  it('stops a submission whose cancel another submission’s watch found, without asking EvalAI itself', async () => {
    const h = harness();
    const [a, b] = await running(h, 2);
    if (!a || !b) throw new Error('no submissions');
    h.evalai.setStatus(b.submissionPk, 'cancelled');
    h.clock.advance(30);
    expect((await observeSubmission(h.plane, { submission: a, poll: { turn: 1 } })).phase).toBe('running');
    let state: unknown;
    const requests = await requestsDuring(h, async () => {
      state = await observeSubmission(h.plane, { submission: b, poll: { turn: 1 } });
    });
    expect(state).toMatchObject({ phase: 'cancelled', reason: 'The submission was cancelled on EvalAI.' });
    expect(requests).toEqual([]);
  });

  it('keeps observing when the watch cannot reach EvalAI, and asks again the next period', async () => {
    const h = harness();
    const [a] = await running(h, 1);
    if (!a) throw new Error('no submission');
    h.clock.advance(30);
    h.evalai.beforeRequest = (request) => {
      if (request.startsWith('GET list')) throw new EvalAiUnavailableError('EvalAI answered 502');
    };
    expect((await observeSubmission(h.plane, { submission: a, poll: { turn: 1 } })).phase).toBe('running');
    h.evalai.beforeRequest = undefined;
    h.evalai.setStatus(a.submissionPk, 'cancelled');
    h.clock.advance(30);
    expect((await observeSubmission(h.plane, { submission: a, poll: { turn: 2 } })).phase).toBe('cancelled');
  });

  it('still reads the submission fresh immediately before each write to EvalAI', async () => {
    const h = harness(withTrack({ partialEvaluation: true }));
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    const record = await h.store.get(pk);
    h.runWorkers(pk);
    const first = record?.plan?.workers[0];
    await h.artifacts.put(artifactKeys.checkpoint(pk, 0), checkpointText(first?.routeIds ?? [], 3));
    expect(await requestsDuring(h, () => observeSubmission(h.plane, { submission }))).toEqual([
      'GET list cancelled',
      'GET submission',
      'PATCH running',
      'GET submission',
      'PUT partially_evaluated',
    ]);
  });
});
