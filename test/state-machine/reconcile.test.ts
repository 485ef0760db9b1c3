import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  failureClassLine,
  MAX_RESENDS,
  NEVER_STARTED,
  RECONCILE_AFTER_SECONDS,
  reconcileSubmissions,
  registerSubmission,
} from '@pitwall/domain';
import { instantEvaluations } from '../support/evaluator.js';
import { runExecution } from '../support/run-execution.js';
import { IMAGE, PHASE_PK, QUALIFIER_PHASE_PK, Stack } from '../support/stack.js';

let stack: Stack;
let team = 0;

beforeAll(async () => {
  stack = await Stack.start();
});
afterAll(() => stack.stop());
beforeEach(() => {
  stack.resent.length = 0;
  // Everything EvalAI lists is settled by earlier tests, so each test sees only its own submissions.
  for (const s of stack.evalai.submissions.values()) {
    if (s.status === 'submitted' || s.status === 'resuming') stack.evalai.cancel(s.id);
  }
  stack.jobs.onLaunch = undefined;
});

function submit(phasePk = PHASE_PK) {
  team += 1;
  return stack.evalai.createSubmission({ phasePk, teamPk: team, teamName: `team ${team}`, imageUri: IMAGE });
}
/** The emulator stamps submissions with the real time; the reconciler looks at them from `seconds` later. */
const later = (seconds: number) => {
  stack.clock.time = Date.now() + seconds * 1000;
};

describe('the reconciler', () => {
  it('re-sends the message of a submission that never reached Pitwall, and that message evaluates it', async () => {
    instantEvaluations(stack);
    const lost = submit();
    later(RECONCILE_AFTER_SECONDS + 60);
    const report = await reconcileSubmissions(stack.plane);
    expect(report).toEqual({ waiting: 1, resent: [lost.id], failed: [], errors: [] });
    const [message] = stack.resent;
    expect(JSON.parse(message?.body ?? '{}')).toEqual({
      challenge_pk: String(lost.challengePk),
      phase_pk: String(PHASE_PK),
      submission_pk: lost.id,
    });
    const result = await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body: message?.body }]);
    expect(result.status).toBe('SUCCEEDED');
    expect(stack.evalai.get(lost.id).status).toBe('finished');
    expect((await reconcileSubmissions(stack.plane)).resent).toEqual([]);
  });

  it('re-sends a resume whose message was lost, and the resumed attempt runs', async () => {
    stack.jobs.onLaunch = (spec) =>
      stack.jobs.setState(spec.name, 'failed', { reason: 'BackoffLimitExceeded', containers: [] });
    const resumed = submit();
    const body = stack.evalai.messageFor(resumed.id);
    await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body }]);
    expect((await stack.plane.store.get(resumed.id))?.status).toBe('failed');
    stack.evalai.resume(resumed.id);
    later(60);
    expect((await reconcileSubmissions(stack.plane)).resent).toEqual([]); // still within the grace period
    later(RECONCILE_AFTER_SECONDS + 60);
    const report = await reconcileSubmissions(stack.plane);
    expect(report.resent).toEqual([resumed.id]);
    instantEvaluations(stack);
    const result = await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body: stack.resent[0]?.body }]);
    expect(result.status).toBe('SUCCEEDED');
    expect(await stack.plane.store.get(resumed.id)).toMatchObject({ status: 'finished', attempt: 2 });
    expect(stack.evalai.get(resumed.id).status).toBe('finished');
  });

  it('leaves alone a submission within the grace period, a registered one, and one of a phase it does not run', async () => {
    const fresh = submit();
    const registered = submit();
    const elsewhere = submit(QUALIFIER_PHASE_PK);
    later(60);
    await registerSubmission(stack.plane, {
      event: stack.evalai.messageFor(registered.id),
      executionId: 'exec-registered',
    });
    expect((await reconcileSubmissions(stack.plane)).resent).toEqual([]);
    later(RECONCILE_AFTER_SECONDS + 60);
    const report = await reconcileSubmissions(stack.plane);
    expect(report.resent).toEqual([fresh.id]);
    expect(report.waiting).toBe(2);
    expect(stack.resent.map((m) => m.submissionPk)).not.toContain(elsewhere.id);
  });

  it(`fails a submission on EvalAI with a reason after ${MAX_RESENDS} re-sent messages`, async () => {
    const stuck = submit();
    later(RECONCILE_AFTER_SECONDS + 60);
    for (let i = 0; i < MAX_RESENDS; i += 1) {
      expect((await reconcileSubmissions(stack.plane)).resent).toEqual([stuck.id]);
    }
    expect(new Set(stack.resent.map((m) => m.deduplicationId)).size).toBe(MAX_RESENDS);
    const report = await reconcileSubmissions(stack.plane);
    expect(report).toMatchObject({ resent: [], failed: [stuck.id] });
    expect(stack.evalai.get(stuck.id).status).toBe('failed');
    expect(stack.evalai.get(stuck.id).stderr).toBe(`${failureClassLine('platform_error')}\n${NEVER_STARTED}`);
  });

  it('reports a submission it could not re-send and carries on with the others', async () => {
    const first = submit();
    const second = submit();
    later(RECONCILE_AFTER_SECONDS + 60);
    const queue = {
      send: async (message: { submissionPk: number }) => {
        if (message.submissionPk === first.id) throw new Error('queue refused');
      },
    };
    const report = await reconcileSubmissions({ ...stack.plane, queue });
    expect(report.resent).toEqual([second.id]);
    expect(report.errors).toEqual([`submission ${first.id}: queue refused`]);
  });
});
