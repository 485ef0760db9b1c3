import { describe, expect, it } from '@jest/globals';
import {
  decideOutcome,
  mergeWorkerCheckpoints,
  type PollState,
  qualification,
  type TrackConfig,
} from '../../src/index.js';
import { checkpointText } from '../../src/testing/index.js';

// Collect's decision on its own: what was read in, the outcome and the participant's stderr lines out.

const done: PollState = { phase: 'done', turn: 3, waitSeconds: 1 };
const assignment = (routeIds: string[]) => ({ routeIds, repetitions: 1 });
const report = (files: { raw: string | undefined; routes: string[] }[], expectedRoutes: number) =>
  mergeWorkerCheckpoints(
    files.map(({ raw, routes }, worker) => ({ worker: String(worker), raw, assignment: assignment(routes) })),
    { expectedRoutes },
  );

describe('decideOutcome', () => {
  it('finishes a done run whose workers wrote every route', () => {
    const read = report([{ raw: checkpointText(['0', '1']), routes: ['0', '1'] }], 2);
    expect(decideOutcome({ poll: done, report: read, expectedRoutes: 2 })).toEqual({
      outcome: { status: 'finished' },
      errors: [],
    });
  });

  it('fails a done run with routes missing as the platform’s, saying how many were evaluated', () => {
    const read = report([{ raw: checkpointText(['0', '1'], 1), routes: ['0', '1'] }], 2);
    const { outcome, errors } = decideOutcome({ poll: done, report: read, expectedRoutes: 2 });
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'The results are incomplete: 1 of 2 routes were evaluated.',
      failureClass: 'platform_error',
    });
    expect(errors[1]).toBe(outcome.reason);
    expect(errors[0]).toContain('[platform_error;');
  });

  it('fails a done run with a file it cannot accept as bad_checkpoint, the reason said once', () => {
    const read = report(
      [
        { raw: checkpointText(['0']), routes: ['0'] },
        { raw: '{"not": "a checkpoint"}', routes: ['1'] },
      ],
      2,
    );
    const { outcome, errors } = decideOutcome({ poll: done, report: read, expectedRoutes: 2 });
    expect(outcome.failureClass).toBe('bad_checkpoint');
    expect(outcome.reason).toMatch(/^Worker 1 wrote a results file that cannot be accepted/);
    expect(errors.filter((line) => line === outcome.reason)).toHaveLength(1);
  });

  it('keeps a cancel a cancel, whatever the results say', () => {
    const cancelled: PollState = {
      phase: 'cancelled',
      turn: 1,
      waitSeconds: 1,
      reason: 'Cancelled by the participant.',
    };
    expect(decideOutcome({ poll: cancelled, report: undefined, expectedRoutes: 2 })).toEqual({
      outcome: { status: 'cancelled', reason: 'Cancelled by the participant.', failureClass: 'cancelled' },
      errors: [],
    });
  });

  it('lets the evaluator’s own route status say more than a crashed container', () => {
    const failed = JSON.parse(checkpointText(['0']));
    failed._checkpoint.records[0].status = "Failed - Agent couldn't be set up";
    const read = report([{ raw: JSON.stringify(failed), routes: ['0'] }], 1);
    const crashed: PollState = { phase: 'failed', turn: 2, waitSeconds: 1, failureClass: 'agent_crashed' };
    const { outcome } = decideOutcome({ poll: crashed, report: read, expectedRoutes: 1 });
    expect(outcome.status).toBe('failed');
    expect(outcome.failureClass).toBe('agent_setup');
  });

  it('says a merge that could not be made below the class line', () => {
    const failed: PollState = { phase: 'timed_out', turn: 9, waitSeconds: 1, failureClass: 'time_limit' };
    const { outcome, errors } = decideOutcome({
      poll: failed,
      report: undefined,
      mergeError: 'two workers wrote route 3',
      expectedRoutes: 4,
    });
    expect(outcome.failureClass).toBe('time_limit');
    expect(errors.at(-1)).toBe("The workers' results could not be merged: two workers wrote route 3");
  });
});

describe('qualification', () => {
  const qualifier = (min: number) =>
    ({ qualifier: { thresholds: { 'Driving score': min }, grants: 'SENSORS' } }) as unknown as TrackConfig;
  // Routes 0 and 1: 100 and 50, a driving score of 75.
  const merged = () => report([{ raw: checkpointText(['0', '1']), routes: ['0', '1'] }], 2).merged;

  it('grants the track to a finished run strictly above every threshold, and says so first in stdout', () => {
    expect(qualification({ status: 'finished' }, merged(), qualifier(74.9), undefined)).toEqual({
      grants: 'SENSORS',
      stdoutNote: 'CONGRATULATIONS! You passed the qualifier and can now submit to SENSORS.\n\n',
    });
  });

  it('grants nothing below a threshold, and nothing to a run that did not finish or a track with no qualifier', () => {
    expect(qualification({ status: 'finished' }, merged(), qualifier(75), undefined)).toEqual({
      stdoutNote: 'Unfortunately you did not pass the qualifier thresholds this time.\n\n',
    });
    expect(qualification({ status: 'failed' }, merged(), qualifier(0), undefined)).toEqual({ stdoutNote: '' });
    expect(qualification({ status: 'finished' }, merged(), {} as TrackConfig, undefined)).toEqual({ stdoutNote: '' });
  });
});
