import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  collectResults,
  launchWorker,
  markQueued,
  observeSubmission,
  planSubmission,
  registerSubmission,
} from '@pitwall/domain';
import { publish } from '@pitwall/service-publisher';
import { instantEvaluations } from '../support/evaluator.js';
import { IMAGE, PHASE_PK, Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start();
});
afterAll(() => stack.stop());

describe('Publish', () => {
  it('is not blocked by a try still in progress (or killed mid-way): a retry publishes all the same (item 2)', async () => {
    instantEvaluations(stack);
    const { id } = stack.evalai.createSubmission({ phasePk: PHASE_PK, teamPk: 1, teamName: 't', imageUri: IMAGE });
    const event = [{ messageId: 'm', receiptHandle: 'r', body: stack.evalai.messageFor(id) }];
    const registration = await registerSubmission(stack.plane, { event, executionId: 'e' });
    if (registration.action !== 'run') throw new Error('expected run');
    const { submission } = registration;
    const plan = await planSubmission(stack.plane, submission);
    for (const { worker } of plan.workers) await launchWorker(stack.plane, { submission, worker });
    await markQueued(stack.plane, submission);
    const poll = await observeSubmission(stack.plane, { submission });
    const outcome = await collectResults(stack.plane, { submission, poll });
    const context = { getRemainingTimeInMillis: () => 120_000, functionName: 'publish', awsRequestId: 'r' } as never;
    const handler = publish(stack.services);
    // Two tries at once: what a retry meets while the first is still running, or was killed mid-way.
    const [first, second] = await Promise.allSettled([
      handler({ submission, outcome }, context),
      handler({ submission, outcome }, context),
    ]);
    expect([first.status, second.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(stack.evalai.get(id).status).toBe('finished');
    expect((await stack.plane.store.get(id))?.status).toBe('finished');
  });
});
