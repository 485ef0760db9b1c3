import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { relay } from '@pitwall/service-ingest';
import { instantEvaluations } from '../support/evaluator.js';
import { runExecution } from '../support/run-execution.js';
import { IMAGE, PHASE_PK, Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start();
});
afterAll(() => stack.stop());

describe('a challenge whose queue is EvalAI’s own (no use_host_sqs), through the relay', () => {
  it('relays each submission’s message from EvalAI’s REST proxy once, and the ASL evaluates it to finished', async () => {
    instantEvaluations(stack);
    stack.evalai.queued.length = 0;
    const pks = [1, 2].map(
      (team) =>
        stack.evalai.createSubmission({
          phasePk: PHASE_PK,
          teamPk: 700 + team,
          teamName: `Relay ${team}`,
          imageUri: IMAGE,
        }).id,
    );
    const run = relay(stack.services);
    expect(await run({ source: 'aws.scheduler' })).toEqual({ relayed: pks, unreadable: 0, errors: [] });
    expect(stack.evalai.queued).toHaveLength(0); // deleted from EvalAI's queue once sent
    expect(await run({ source: 'aws.scheduler' })).toEqual({ relayed: [], unreadable: 0, errors: [] });

    for (const message of stack.resent) {
      await runExecution(stack, [{ messageId: message.deduplicationId, receiptHandle: 'r', body: message.body }]);
    }
    expect(pks.map((pk) => stack.evalai.get(pk).status)).toEqual(['finished', 'finished']);
    const proxy = stack.evalai.requests.filter((r) => r.path.includes('queues/'));
    // Two messages, each a GET and a POST, and the empty GET that ended each run.
    expect(proxy.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'POST', 'GET', 'GET']);
  });
});
