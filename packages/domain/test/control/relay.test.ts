import { describe, expect, it } from '@jest/globals';
import { registerSubmission, relayQueuedSubmissions } from '../../src/index.js';
import { harness } from './harness.js';

const message = (pk: number) => ({ challenge_pk: '5', phase_pk: '9', submission_pk: pk });

describe('the relay from EvalAI’s REST queue proxy into Pitwall’s queue', () => {
  it('moves each message and deletes it, at most maxMessages a run, the rest left for the next', async () => {
    const h = harness();
    for (const pk of [11, 12, 13]) h.intake.publish(message(pk));
    expect(await relayQueuedSubmissions(h.plane, { maxMessages: 2 })).toEqual({
      relayed: [11, 12],
      unreadable: 0,
      errors: [],
    });
    expect(h.intake.waiting).toBe(1);
    expect(await relayQueuedSubmissions(h.plane, { maxMessages: 2 })).toEqual({
      relayed: [13],
      unreadable: 0,
      errors: [],
    });
    expect(h.queue.sent.map((m) => [m.submissionPk, JSON.parse(m.body)])).toEqual([
      [11, message(11)],
      [12, message(12)],
      [13, message(13)],
    ]);
    expect(h.intake.waiting).toBe(0);
  });

  it('sends a message whose delete failed again when it comes back, and Register takes it once', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    h.intake.publish(JSON.parse(event[0]?.body ?? 'null'));
    h.intake.failNextDelete = true;
    const first = await relayQueuedSubmissions(h.plane, { maxMessages: 5 });
    expect(first.relayed).toEqual([pk]);
    expect(first.errors).toEqual([expect.stringMatching(`submission ${pk}: not deleted from EvalAI's queue`)]);
    h.intake.redeliver();
    expect((await relayQueuedSubmissions(h.plane, { maxMessages: 5 })).relayed).toEqual([pk]);
    const [a, b] = h.queue.sent;
    expect(a?.deduplicationId).not.toBe(b?.deduplicationId);
    const actions = [];
    for (const sent of h.queue.sent) {
      const event = [{ messageId: sent.deduplicationId, body: sent.body }];
      actions.push((await registerSubmission(h.plane, { event, executionId: sent.deduplicationId })).action);
    }
    expect(actions).toEqual(['run', 'skip']);
  });

  it('deletes a message that names no submission, and keeps one it could not send', async () => {
    const h = harness();
    h.intake.publish(null);
    h.intake.publish(message(21));
    const failing = { ...h.plane, queue: { send: async () => Promise.reject(new Error('SQS is down')) } };
    expect(await relayQueuedSubmissions(failing, { maxMessages: 5 })).toEqual({
      relayed: [],
      unreadable: 1,
      errors: ["submission 21: not sent, left in EvalAI's queue: SQS is down"],
    });
    h.intake.redeliver();
    expect(h.intake.waiting).toBe(1);
    expect((await relayQueuedSubmissions(h.plane, { maxMessages: 5 })).relayed).toEqual([21]);
  });
});
