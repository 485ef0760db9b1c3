import { describe, expect, it } from '@jest/globals';
import {
  costReport,
  interruptionsOf,
  type JobObservation,
  type SubmissionRecord,
  submissionCost,
  usageAfter,
  usageEndedAt,
} from '../../src/index.js';

const record = (overrides: Partial<SubmissionRecord> = {}): SubmissionRecord => ({
  submissionPk: 1,
  challengePk: 203,
  phasePk: 527,
  attempt: 1,
  track: 'SENSORS',
  teamPk: 7,
  teamName: 'Team A',
  imageUri: 'img',
  registeredAt: '2026-12-03T10:00:00.000Z',
  deadline: '2026-12-04T10:00:00.000Z',
  status: 'running',
  history: [],
  updatedAt: '2026-12-03T10:00:00.000Z',
  ...overrides,
});
const job = (pods: JobObservation['pods'], interruptions?: number): JobObservation => ({
  name: 'j',
  state: 'running',
  containers: [],
  ...(pods ? { pods } : {}),
  ...(interruptions ? { interruptions } : {}),
});
const prices = { 'g5.2xlarge': { onDemand: 1.2, spot: 0.4 } };
const spotPod = {
  startedAt: '2026-12-03T10:00:00.000Z',
  endedAt: '2026-12-03T11:00:00.000Z',
  instanceType: 'g5.2xlarge',
  capacityType: 'spot' as const,
};

describe('the GPU time an evaluation used, and what it cost', () => {
  it('records each worker’s pods as observed, keeps what a gone Job showed, and writes nothing unchanged', () => {
    const first = usageAfter(record(), [{ worker: 0, job: job([spotPod], 1) }]);
    expect(first).toEqual([{ attempt: 1, worker: 0, job: 'j', interruptions: 1, pods: [spotPod] }]);
    const withIt = record({ usage: first ?? [] });
    expect(usageAfter(withIt, [{ worker: 0, job: job([spotPod], 1) }])).toBeUndefined();
    expect(usageAfter(withIt, [{ worker: 0, job: job(undefined) }])).toBeUndefined(); // deleted: kept
    const resumed = usageAfter({ ...withIt, attempt: 2 }, [{ worker: 0, job: job([spotPod]) }]);
    expect(resumed?.map((u) => u.attempt)).toEqual([1, 2]); // every attempt's GPU time counts
    // A worker moved to on demand: its second Job gets an entry beside the first, whose pods stay counted.
    const moved = usageAfter(withIt, [{ worker: 0, job: { ...job([spotPod]), name: 'j-od' } }]);
    expect(moved?.map((u) => u.job)).toEqual(['j', 'j-od']);
    expect(interruptionsOf(moved, 1, 0)).toBe(1);
  });

  it('ends the pods of a Job being deleted now, and no other Job’s', () => {
    const open = { startedAt: '2026-12-03T11:00:00.000Z', instanceType: 'g5.2xlarge' };
    const usage = [
      { attempt: 1, worker: 0, job: 'a', interruptions: 0, pods: [spotPod, open] },
      { attempt: 1, worker: 1, job: 'b', interruptions: 0, pods: [open] },
    ];
    const ended = usageEndedAt(usage, 'a', '2026-12-03T11:10:00.000Z');
    expect(ended[0]?.pods).toEqual([spotPod, { ...open, endedAt: '2026-12-03T11:10:00.000Z' }]);
    expect(ended[1]).toEqual(usage[1]);
  });

  it('prices every pod, one still running to now and one whose end was not seen to its attempt’s end', () => {
    const running = {
      startedAt: '2026-12-03T11:00:00.000Z',
      instanceType: 'g5.2xlarge',
      capacityType: 'on-demand' as const,
    };
    const r = record({ usage: [{ attempt: 1, worker: 0, job: 'j', interruptions: 1, pods: [spotPod, running] }] });
    const cost = submissionCost(r, prices, new Date('2026-12-03T11:30:00.000Z'));
    expect(cost).toEqual({ gpuHours: 1.5, usd: 0.4 + 0.6, interruptions: 1 });
    const ended = record({
      ...r,
      status: 'failed',
      history: [{ status: 'failed', at: '2026-12-03T12:00:00.000Z', attempt: 1 }],
    });
    expect(submissionCost(ended, prices, new Date('2026-12-05T00:00:00.000Z')).gpuHours).toBe(2);
    expect(
      submissionCost(
        record({
          usage: [{ attempt: 1, worker: 0, job: 'j', interruptions: 0, pods: [{ ...spotPod, instanceType: 'p5' }] }],
        }),
        prices,
        new Date(),
      ).usd,
    ).toBeUndefined();
  });

  it('sums per team and per phase over a period', () => {
    const usage = [{ attempt: 1, worker: 0, job: 'j', interruptions: 0, pods: [spotPod] }];
    const records = [
      record({ submissionPk: 1, usage }),
      record({ submissionPk: 2, usage, teamPk: 8, teamName: 'Team B' }),
      record({ submissionPk: 3, usage, registeredAt: '2026-11-01T00:00:00.000Z' }),
    ];
    const report = costReport(records, prices, new Date(), { from: new Date('2026-12-01T00:00:00.000Z') });
    expect(report.byTeam.map((l) => [l.key, l.submissions, l.usd])).toEqual([
      ['Team A (7)', 1, 0.4],
      ['Team B (8)', 1, 0.4],
    ]);
    expect(report.byPhase).toEqual([{ key: '527 SENSORS', submissions: 2, gpuHours: 2, usd: 0.8, unpriced: 0 }]);
    expect(report.total.submissions).toBe(2);
  });
});
