import { describe, expect, it } from '@jest/globals';
import { handOver, MAX_RESENDS, RECONCILE_AFTER_SECONDS, reconcileSubmissions } from '../../src/index.js';
import { harness } from './harness.js';

describe('HandOver', () => {
  it('starts one fresh execution per hand-over, however often it is retried (item 9)', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const input = {
      registration: { action: 'run' as const, submission },
      plan: {},
      poll: { phase: 'handover' as const, turn: 1500, waitSeconds: 0 },
    };
    const first = await handOver(h.plane, input);
    const retried = await handOver(h.plane, input);
    expect(retried).toEqual(first);
    expect(h.executions.started.size).toBe(1);
    expect((await h.store.get(submission.submissionPk))?.executionId).toBe(first.executionId);
    // The next hand-over of the fresh execution is another one.
    const next = await handOver(h.plane, { ...input, poll: { ...input.poll, handovers: 1 } });
    expect(next.executionId).not.toBe(first.executionId);
    expect(h.executions.started.size).toBe(2);
  });
});

describe('the reconciler', () => {
  it('re-sends a lost message after the grace period, and fails the submission after the last re-send', async () => {
    const h = harness();
    const { pk } = h.submit();
    expect((await reconcileSubmissions(h.plane)).resent).toEqual([]); // still within the grace period
    h.clock.advance(RECONCILE_AFTER_SECONDS + 1);
    for (let i = 0; i < MAX_RESENDS; i++) expect((await reconcileSubmissions(h.plane)).resent).toEqual([pk]);
    expect(JSON.parse(h.queue.sent[0]?.body ?? '{}')).toMatchObject({ submission_pk: pk });
    expect((await reconcileSubmissions(h.plane)).failed).toEqual([pk]);
    expect(h.evalai.statusOf(pk)).toBe('failed');
  });

  it('leaves a participant cancel alone', async () => {
    const h = harness();
    const { pk } = h.submit();
    h.clock.advance(RECONCILE_AFTER_SECONDS + 1);
    h.evalai.setStatus(pk, 'cancelled');
    expect(await reconcileSubmissions(h.plane)).toMatchObject({ resent: [], failed: [] });
  });
});
