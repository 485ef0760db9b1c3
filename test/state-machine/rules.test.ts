import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { failureClassLine, publishOutcome, QUALIFIER_REQUIRED, registerSubmission } from '@pitwall/domain';
import { checkpointText, instantEvaluations, routesOf, writeCheckpoint } from '../support/evaluator.js';
import { runExecution } from '../support/run-execution.js';
import { challengeConfig, IMAGE, PHASE_PK, QUALIFIER_PHASE_PK, Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start(
    challengeConfig({
      phases: {
        [PHASE_PK]: {
          track: 'SENSORS',
          routesKey: 'routes/validation.xml',
          workers: 2,
          timeLimitSeconds: 3600,
          requiresQualifier: 'SENSORS',
        },
        [QUALIFIER_PHASE_PK]: {
          track: 'SENSORS_QUALIFIER',
          routesKey: 'routes/validation.xml',
          workers: 2,
          timeLimitSeconds: 3600,
          partialEvaluation: true,
          qualifier: { grants: 'SENSORS', thresholds: { 'Driving score': 60 } },
        },
      },
    }),
  );
});
afterAll(() => stack.stop());

function submit(teamPk: number, phasePk = PHASE_PK) {
  const s = stack.evalai.createSubmission({ phasePk, teamPk, teamName: `team ${teamPk}`, imageUri: IMAGE });
  return { pk: s.id, input: [{ messageId: `m${s.id}`, receiptHandle: 'r', body: stack.evalai.messageFor(s.id) }] };
}

describe('challenge rules', () => {
  it('turns a team away from a track that needs a qualifier it has not passed, then admits it after', async () => {
    instantEvaluations(stack);
    const early = submit(7);
    await runExecution(stack, early.input);
    expect(stack.evalai.get(early.pk).status).toBe('failed');
    expect(stack.evalai.get(early.pk).stderr).toBe(`${failureClassLine('rejected')}\n${QUALIFIER_REQUIRED}`);

    const qualifier = submit(7, QUALIFIER_PHASE_PK);
    await runExecution(stack, qualifier.input); // driving score 75 > 60
    expect(stack.evalai.get(qualifier.pk).status).toBe('finished');
    expect(stack.evalai.get(qualifier.pk).stdout).toContain('CONGRATULATIONS! You passed the qualifier');
    expect(await stack.plane.store.hasQualification(7, 'SENSORS')).toBe(true);

    const later = submit(7);
    expect(await registerSubmission(stack.plane, { event: later.input, executionId: 'e' })).toMatchObject({
      action: 'run',
    });
  });

  it('never writes a result over a submission the participant cancelled at the last moment', async () => {
    instantEvaluations(stack);
    const { pk, input } = submit(8, QUALIFIER_PHASE_PK);
    const registration = await registerSubmission(stack.plane, { event: input, executionId: 'e' });
    if (registration.action !== 'run') throw new Error('expected run');
    await stack.plane.store.transition(pk, 1, 'queued', { at: 't' });
    stack.evalai.cancel(pk);
    const published = await publishOutcome(stack.plane, {
      submission: registration.submission,
      outcome: { status: 'finished' },
    });
    expect(published.status).toBe('cancelled');
    expect(stack.evalai.get(pk).status).toBe('cancelled');
    expect(stack.evalai.get(pk).history.map((h) => h.via)).toEqual(['participant', 'participant']);
    expect((await stack.plane.store.get(pk))?.status).toBe('cancelled');
  });

  it('sends no partial results on a phase without partial evaluation, and records progress all the same', async () => {
    const { pk, input } = submit(7); // qualified by the first test
    stack.jobs.onLaunch = (spec) => stack.jobs.setState(spec.name, 'running');
    const seen: number[] = [];
    await runExecution(stack, input, {
      beforeObserve: async (turn) => {
        seen.push((await stack.plane.store.get(pk))?.progress?.done ?? 0);
        for (const spec of stack.jobs.jobsOf(pk)) {
          const routes = await routesOf(stack, spec);
          const done = Math.min(routes.length, turn * 4);
          await writeCheckpoint(stack, spec, checkpointText(routes, done));
          if (done === routes.length) stack.jobs.setState(spec.name, 'succeeded');
        }
      },
    });
    const partials = stack.evalai.requests.filter(
      (r) =>
        r.path.includes('update_partially_evaluated_submission') &&
        (r.body as { submission?: number }).submission === pk,
    );
    expect(partials).toHaveLength(0);
    expect(seen).toEqual([0, 8, 16]); // two workers, four more routes each per turn
    expect(stack.evalai.get(pk).history.map((h) => h.status)).toEqual(['submitted', 'queued', 'running', 'finished']);
  });

  it('sends partial results to EvalAI only when they changed, on a phase with partial evaluation', async () => {
    const { pk, input } = submit(9, QUALIFIER_PHASE_PK);
    stack.jobs.onLaunch = (spec) => stack.jobs.setState(spec.name, 'running');
    const progressAt: Record<number, number> = { 2: 1, 3: 1, 4: 2, 5: 2, 6: 10 };
    await runExecution(stack, input, {
      beforeObserve: async (turn) => {
        for (const spec of stack.jobs.jobsOf(pk)) {
          const routes = await routesOf(stack, spec);
          const done = Math.min(routes.length, progressAt[turn] ?? 0);
          if (done > 0) await writeCheckpoint(stack, spec, checkpointText(routes, done));
          if (done === routes.length) stack.jobs.setState(spec.name, 'succeeded');
        }
      },
    });
    const partials = stack.evalai.requests.filter(
      (r) =>
        r.path.includes('update_partially_evaluated_submission') &&
        (r.body as { submission?: number }).submission === pk,
    );
    // Turns 2, 4 and 6 change the results; 3 and 5 repeat them.
    expect(partials).toHaveLength(3);
    expect(stack.evalai.get(pk).status).toBe('finished');
  });
});
