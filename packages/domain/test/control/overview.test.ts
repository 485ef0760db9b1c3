import { describe, expect, it } from '@jest/globals';
import {
  artifactKeys,
  collectResults,
  failSubmission,
  observeSubmission,
  overviewOf,
  publicStatusOf,
  publishOutcome,
  runHealth,
  sharedRanks,
} from '../../src/index.js';
import { checkpointText } from '../../src/testing/index.js';
import { harness } from './harness.js';

// The live page's read model: the queue, each run's workers, recent failures with their class, the board.

describe('the overview', () => {
  it('shows the waiting, the running with each worker’s routes, failures by class, and the best per team', async () => {
    const h = harness();
    const finished = await h.start(h.submit().event, 'e-1');
    await h.finishWorkers(finished);
    const poll = await observeSubmission(h.plane, { submission: finished });
    await publishOutcome(h.plane, {
      submission: finished,
      outcome: await collectResults(h.plane, { submission: finished, poll }),
    });

    const running = await h.start(h.submit().event, 'e-2');
    const [first] = (await h.store.get(running.submissionPk))?.plan?.workers ?? [];
    if (!first) throw new Error('no plan');
    h.runWorkers(running.submissionPk);
    await h.artifacts.put(
      artifactKeys.checkpoint(running.submissionPk, first.worker),
      checkpointText(first.routeIds, 3),
    );
    await observeSubmission(h.plane, { submission: running });

    h.clock.advance(1);
    const waiting = await h.start(h.submit().event, 'e-3');
    h.clock.advance(1);
    const failed = await h.start(h.submit().event, 'e-4');
    const record = await h.store.get(failed.submissionPk);
    if (!record) throw new Error('no record');
    await failSubmission(h.plane, record, { reason: 'The agent crashed.\nmore', failureClass: 'agent_crashed' });
    await h.artifacts.put(artifactKeys.checkpoint(waiting.submissionPk, 0), 'not json');

    const overview = await overviewOf(h.plane);
    expect(overview.waiting.map((s) => [s.submissionPk, s.status])).toEqual([[waiting.submissionPk, 'queued']]);
    expect(overview.running).toEqual([
      expect.objectContaining({
        submissionPk: running.submissionPk,
        workers: [
          { worker: 0, done: 3, total: first.routeIds.length },
          { worker: 1, done: 0, total: expect.any(Number) },
        ],
      }),
    ]);
    expect(overview.workersRunning).toBe(2);
    expect(overview.failures).toEqual([
      expect.objectContaining({
        submissionPk: failed.submissionPk,
        failureClass: 'agent_crashed',
        fault: 'participant',
        reason: 'The agent crashed.',
      }),
    ]);
    expect(overview.leaderboard).toEqual([
      expect.objectContaining({
        submissionPk: finished.submissionPk,
        values: expect.objectContaining({ 'Driving score': 75 }),
      }),
    ]);
  });
});

describe('what tells a stuck run and a tie', () => {
  it('gives each run when its agents last wrote and when its time is up', () => {
    const activity = [
      { worker: 0, attempt: 2, heartbeatAt: 'x', lastOutputAt: '2026-12-01T10:00:05.000Z' },
      { worker: 1, attempt: 2, heartbeatAt: 'x', lastOutputAt: '2026-12-01T10:03:00.000Z' },
      { worker: 1, attempt: 1, heartbeatAt: 'x', lastOutputAt: '2026-12-01T11:00:00.000Z' }, // an earlier attempt's
    ];
    const deadline = '2026-12-01T12:00:00.000Z';
    expect(runHealth({ attempt: 2, status: 'running', deadline }, activity)).toEqual({
      lastProgressAt: '2026-12-01T10:03:00.000Z',
      deadline,
    });
    expect(runHealth({ attempt: 2, status: 'queued', deadline }, [])).toEqual({});
  });

  it('gives equal scores one place, and the next place skips', () => {
    expect(sharedRanks([90, 80, 80, 70, 70, 70, 10])).toEqual([1, 2, 2, 4, 4, 4, 7]);
    expect(sharedRanks([])).toEqual([]);
  });
});

describe('the public status', () => {
  it('shows ids, places and progress, and team names only where the stage allows them', () => {
    const overview = {
      generatedAt: '2026-12-03T10:00:00.000Z',
      waiting: [
        {
          submissionPk: 7,
          teamName: 'Team Secret',
          phasePk: 1,
          track: 'SENSORS',
          status: 'received' as const,
          attempt: 1,
          since: '2026-12-03T09:00:00.000Z',
          workers: [],
          queue: { position: 1, estimatedStartAt: '2026-12-03T11:00:00.000Z' },
        },
      ],
      running: [],
      workersRunning: 0,
      failures: [
        {
          submissionPk: 3,
          teamName: 'Team Secret',
          failureClass: 'agent_crashed' as const,
          fault: 'participant' as const,
          reason: 'x',
          at: '',
        },
      ],
      leaderboard: [],
    };
    expect(publicStatusOf(overview, false)).toEqual({
      generatedAt: overview.generatedAt,
      waiting: [{ submissionPk: 7, position: 1, estimatedStartAt: '2026-12-03T11:00:00.000Z' }],
      running: [],
    });
    expect(publicStatusOf(overview, true).waiting[0]?.team).toBe('Team Secret');
  });
});
