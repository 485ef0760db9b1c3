import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { failureClassLine, planSubmission, registerSubmission } from '@pitwall/domain';
import { runExecution } from '../support/run-execution.js';
import { challengeConfig, IMAGE, PHASE_PK, Stack } from '../support/stack.js';

// A team that pushes twice at once: both pass Register (each alone fits the budget), and the real ASL refuses
// the second at admission, where the first, under way, is reserved for. The participant reads why.

/** The validation routes' estimate at the assumed 4 km per GPU-hour is between 30 and 60 GPU-hours. */
const BUDGET = 60;
let stack: Stack;
// A whole execution of the real ASL against the local servers: seconds when the machine is busy.
jest.setTimeout(60_000);

beforeAll(async () => {
  stack = await Stack.start(challengeConfig({ budget: { gpuHoursPerTeam: BUDGET } }));
});
afterAll(() => stack.stop());

function submit(teamPk: number) {
  const s = stack.evalai.createSubmission({ phasePk: PHASE_PK, teamPk, teamName: `team ${teamPk}`, imageUri: IMAGE });
  return { pk: s.id, input: [{ messageId: `m${s.id}`, receiptHandle: 'r', body: stack.evalai.messageFor(s.id) }] };
}

describe("a team's GPU-hour budget in the state machine", () => {
  it('fails a second push of a team at admission while its first is under way, saying why', async () => {
    const first = submit(41);
    const registration = await registerSubmission(stack.plane, { event: first.input, executionId: 'first' });
    if (registration.action !== 'run') throw new Error(`expected run, got ${registration.action}`);
    await planSubmission(stack.plane, registration.submission); // under way: planned, not ended
    const estimate = ((await stack.plane.store.get(first.pk))?.plan?.metres ?? 0) / 1000 / 4;
    expect(estimate).toBeGreaterThan(BUDGET / 2);
    expect(estimate).toBeLessThan(BUDGET);

    const second = submit(41);
    await runExecution(stack, second.input);
    const remote = stack.evalai.get(second.pk);
    expect(remote.status).toBe('failed');
    expect(remote.stderr).toBe(
      `${failureClassLine('rejected')}\nYour team has used 0.0 of its ${BUDGET} GPU-hours for the last 30 days, its evaluations under way are estimated to take ${estimate.toFixed(1)} more, and this one ${estimate.toFixed(1)} (its routes' kilometres at an assumed 4 km per GPU-hour, before any run on its track has ended), so this submission was not evaluated. Submit again once earlier evaluations are older than that, or ask the challenge hosts.`,
    );
    expect(stack.jobs.launches.filter((spec) => spec.submissionPk === second.pk)).toEqual([]);
    expect((await stack.plane.store.get(second.pk))?.status).toBe('failed');
  });
});
