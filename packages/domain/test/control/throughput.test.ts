import { describe, expect, it } from '@jest/globals';
import {
  estimatedGpuHours,
  kilometresLeft,
  kilometresPerGpuHour,
  type SubmissionPlanRecord,
  type SubmissionRecord,
} from '../../src/index.js';

// The measured rate the queue's estimate (and the cost estimate) is made from.

function run(overrides: Partial<SubmissionRecord>): SubmissionRecord {
  return {
    submissionPk: 1,
    challengePk: 203,
    phasePk: 527,
    attempt: 1,
    track: 'SENSORS',
    teamPk: 1,
    teamName: 'a',
    imageUri: 'img',
    registeredAt: '2026-12-03T10:00:00.000Z',
    deadline: '2026-12-04T10:00:00.000Z',
    status: 'finished',
    history: [],
    plan: {
      strategy: 'balanced',
      workerCount: 2,
      repetitions: 1,
      expectedRoutes: 10,
      routesKey: 'routes.xml',
      metres: 40_000,
      workers: [],
    },
    progress: { done: 10, total: 10 },
    admission: { requestedAt: '2026-12-03T10:00:00.000Z', admittedAt: '2026-12-03T10:00:00.000Z' },
    updatedAt: '2026-12-03T11:00:00.000Z',
    ...overrides,
  };
}

describe('kilometres per GPU-hour', () => {
  it('is the kilometres completed over the GPU-hours held, over the track’s recent ended runs', () => {
    const full = run({}); // 40 km on 2 GPUs for an hour: 20 km per GPU-hour
    const half = run({ submissionPk: 2, status: 'failed', progress: { done: 5, total: 10 } }); // 20 km in 2 GPU-h
    expect(kilometresPerGpuHour([full], 'SENSORS')).toBe(20);
    expect(kilometresPerGpuHour([full, half], 'SENSORS')).toBe(15);
    expect(kilometresPerGpuHour([full], 'MAP')).toBeUndefined();
  });

  it('counts the GPU time the pods held, where it was measured, rather than the run’s length on every worker', () => {
    // Worker 1 was done after half an hour: its GPU went back then. 40 km in 1.5 GPU-hours.
    const pod = (worker: number, minutes: number) => ({
      attempt: 1,
      worker,
      job: `j${worker}`,
      interruptions: 0,
      pods: [
        {
          startedAt: '2026-12-03T10:00:00.000Z',
          endedAt: new Date(Date.parse('2026-12-03T10:00:00.000Z') + minutes * 60_000).toISOString(),
        },
      ],
    });
    const measured = run({ usage: [pod(0, 60), pod(1, 30)] });
    expect(kilometresPerGpuHour([measured], 'SENSORS')).toBeCloseTo(40 / 1.5);
  });

  it('leaves out runs still going, runs that drove nothing and plans stored without their length', () => {
    const going = run({ status: 'running' });
    const nothing = run({ status: 'failed', progress: { done: 0, total: 10 } });
    const { metres: _, ...stored } = run({}).plan as SubmissionPlanRecord;
    const old = run({ plan: stored });
    expect(kilometresPerGpuHour([going, nothing, old], 'SENSORS')).toBeUndefined();
  });

  it('counts what an attempt has left to drive from its progress', () => {
    expect(kilometresLeft(run({ progress: { done: 3, total: 10 } }))).toBeCloseTo(28);
    expect(kilometresLeft(run({ progress: undefined }))).toBe(40);
  });

  it('estimates the GPU-hours a submission has still to go from its kilometres left and the measured rate', () => {
    const waiting = run({ submissionPk: 9, status: 'received', progress: undefined }); // 40 km to go
    const running = run({ submissionPk: 10, status: 'running', progress: { done: 5, total: 10 } }); // 20 km
    expect(estimatedGpuHours(waiting, [run({}), waiting])).toBe(2); // at 20 km per GPU-hour
    expect(estimatedGpuHours(running, [run({}), running])).toBe(1);
    expect(estimatedGpuHours(waiting, [waiting])).toBeUndefined(); // nothing measured yet
  });
});
