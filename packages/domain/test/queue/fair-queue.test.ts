import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  addUsage,
  admit,
  decayedUsage,
  type FairQueuePolicy,
  type QueuedSubmission,
  queueOrder,
  type SimulatedSubmission,
  simulateQueue,
  type TeamUsage,
} from '../../src/index.js';

const HOUR = 3_600_000;
const policy: FairQueuePolicy = {
  capacity: { SENSORS: 8, MAP: 4 },
  maxConcurrentPerTeam: 2,
  halfLifeSeconds: 6 * 3600,
  maxWaitSeconds: 24 * 3600,
};
let pk = 0;
const queued = (teamPk: number, queuedAt: number, extra: Partial<QueuedSubmission> = {}): QueuedSubmission => ({
  submissionPk: ++pk,
  teamPk,
  phasePk: 1,
  track: 'SENSORS',
  workers: 4,
  queuedAt,
  ...extra,
});
const used = (entries: Array<[number, number]>, at = 0) =>
  new Map<number, TeamUsage>(entries.map(([team, gpuSeconds]) => [team, { gpuSeconds, at }]));

describe('decayed use', () => {
  it('halves after each half-life, and adds new use on top', () => {
    const usage = { gpuSeconds: 800, at: 0 };
    expect(decayedUsage(usage, 6 * HOUR, 6 * 3600)).toBeCloseTo(400);
    expect(decayedUsage(usage, 12 * HOUR, 6 * 3600)).toBeCloseTo(200);
    expect(decayedUsage(undefined, HOUR, 6 * 3600)).toBe(0);
    expect(addUsage(usage, 100, 6 * HOUR, 6 * 3600)).toEqual({ gpuSeconds: 500, at: 6 * HOUR });
  });
});

describe('the queue order', () => {
  it('puts the team that used least first, whatever the arrival order; ties by age', () => {
    const heavy = [queued(1, 0), queued(1, 1)];
    const light = queued(2, 5);
    const fresh = queued(3, 6);
    const order = queueOrder(
      { now: 10, waiting: [...heavy, light, fresh], running: [], usage: used([[1, 50_000]]) },
      policy,
    );
    expect(order.map((s) => s.submissionPk)).toEqual([light, fresh, ...heavy].map((s) => s.submissionPk));
  });

  it('divides use by the team’s weight', () => {
    const a = queued(1, 0);
    const b = queued(2, 1);
    const state = {
      now: 10,
      waiting: [a, b],
      running: [],
      usage: used([
        [1, 300],
        [2, 200],
      ]),
    };
    expect(queueOrder(state, policy)[0]).toBe(b);
    expect(queueOrder(state, { ...policy, weights: { 1: 2 } })[0]).toBe(a); // 150 per unit of weight
  });

  it('puts the overdue before everyone, oldest first', () => {
    const old = queued(1, 0);
    const older = queued(1, -HOUR);
    const light = queued(2, 25 * HOUR);
    const order = queueOrder(
      { now: 25 * HOUR, waiting: [light, old, older], running: [], usage: used([[1, 1e9]]) },
      policy,
    );
    expect(order).toEqual([older, old, light]);
  });
});

describe('admit', () => {
  it('in deadline mode, puts the teams with no result on the phase first, after the overdue', () => {
    const done = queued(1, 0); // its team has a result already, and used nothing lately
    const none = queued(2, 1);
    const state = {
      now: 10,
      waiting: [done, none],
      running: [],
      usage: used([[2, 5000]]),
      withResult: new Set(['1/1']),
    };
    expect(queueOrder(state, policy)).toEqual([done, none]); // by use, off
    expect(queueOrder(state, { ...policy, deadlineMode: true })).toEqual([none, done]);
    const overdue = queued(1, -25 * HOUR);
    expect(queueOrder({ ...state, waiting: [none, overdue] }, { ...policy, deadlineMode: true })[0]).toBe(overdue);
  });

  it('fills each track to its budget and no further', () => {
    const waiting = [
      queued(1, 0),
      queued(2, 1),
      queued(3, 2),
      queued(4, 3, { track: 'MAP' }),
      queued(5, 4, { track: 'MAP' }),
    ];
    const admitted = admit({ now: 10, waiting, running: [], usage: new Map() }, policy);
    expect(admitted.map((s) => s.teamPk)).toEqual([1, 2, 4]);
  });

  it('passes over a team at its cap without holding back the others', () => {
    const running = [queued(1, 0), queued(1, 0, { phasePk: 1 })];
    const waiting = [queued(1, 1), queued(2, 2)];
    const admitted = admit({ now: 10, waiting, running, usage: new Map() }, { ...policy, capacity: { SENSORS: 16 } });
    expect(admitted.map((s) => s.teamPk)).toEqual([2]);
    // The cap is per phase: the same team in another phase is not held.
    const other = queued(1, 3, { phasePk: 2 });
    expect(
      admit({ now: 10, waiting: [other], running, usage: new Map() }, { ...policy, capacity: { SENSORS: 16 } }),
    ).toEqual([other]);
  });

  it('lets nothing smaller slip past the first that does not fit, except one that could never fit', () => {
    const running = [queued(9, 0, { workers: 4 })];
    const big = queued(1, 1, { workers: 8 });
    const small = queued(2, 2, { workers: 2 });
    expect(admit({ now: 10, waiting: [big, small], running, usage: new Map() }, policy)).toEqual([]);
    const huge = queued(3, 0, { workers: 12 });
    expect(admit({ now: 10, waiting: [huge, small], running, usage: new Map() }, policy)).toEqual([small]);
  });
});

// Random workloads run through the real policy: two tracks (a phase each, one size each), up to six teams
// with weights, arrivals over a day, runs up to R long.
const R = 5 * HOUR;
const workload = fc
  .record({
    sensorsSlots: fc.integer({ min: 1, max: 4 }),
    mapSlots: fc.integer({ min: 1, max: 3 }),
    cap: fc.integer({ min: 1, max: 3 }),
    maxWaitHours: fc.integer({ min: 1, max: 12 }),
    halfLifeHours: fc.integer({ min: 1, max: 24 }),
    weights: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 6, maxLength: 6 }),
    deadlineMode: fc.boolean(),
    submissions: fc.array(
      fc.record({
        team: fc.integer({ min: 1, max: 6 }),
        map: fc.boolean(),
        at: fc.integer({ min: 0, max: 24 * HOUR }),
        runMs: fc.integer({ min: 10 * 60_000, max: R }),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  })
  .map((w) => {
    const workers = { SENSORS: 4, MAP: 2 };
    const policy: FairQueuePolicy = {
      capacity: { SENSORS: 4 * w.sensorsSlots, MAP: 2 * w.mapSlots },
      maxConcurrentPerTeam: w.cap,
      halfLifeSeconds: w.halfLifeHours * 3600,
      maxWaitSeconds: w.maxWaitHours * 3600,
      weights: Object.fromEntries(w.weights.map((weight, i) => [i + 1, weight])),
      deadlineMode: w.deadlineMode,
    };
    const submissions: SimulatedSubmission[] = w.submissions.map((s, i) => {
      const track = s.map ? 'MAP' : 'SENSORS';
      return {
        submissionPk: i + 1,
        teamPk: s.team,
        phasePk: s.map ? 2 : 1,
        track,
        workers: workers[track],
        queuedAt: s.at,
        runMs: s.runMs,
      };
    });
    return { policy, submissions };
  });

describe('the fair queue, played forward on random workloads', () => {
  it('runs every submission, within each track’s budget and each team’s cap, and leaves no GPU idle while one could run', () => {
    fc.assert(
      fc.property(workload, ({ policy, submissions }) => {
        const { runs, idleWhileWaitingGpuMs } = simulateQueue(submissions, policy);
        expect(runs).toHaveLength(submissions.length);
        expect(idleWhileWaitingGpuMs).toBe(0);
        for (const { startedAt, submission } of runs) {
          const active = runs.filter((r) => r.startedAt <= startedAt && r.endedAt > startedAt);
          const inTrack = active.filter((r) => r.submission.track === submission.track);
          expect(inTrack.reduce((sum, r) => sum + r.submission.workers, 0)).toBeLessThanOrEqual(
            policy.capacity[submission.track] ?? 0,
          );
          const ofTeam = active.filter(
            (r) => r.submission.teamPk === submission.teamPk && r.submission.phasePk === submission.phasePk,
          );
          expect(ofTeam.length).toBeLessThanOrEqual(policy.maxConcurrentPerTeam);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('starves no one: an overdue submission starts within R × (⌈(n + 1) / S⌉ + 1) of falling due', () => {
    fc.assert(
      fc.property(workload, ({ policy, submissions }) => {
        const { runs } = simulateQueue(submissions, policy);
        const startOf = new Map(runs.map((r) => [r.submission.submissionPk, r.startedAt]));
        for (const s of submissions) {
          const due = s.queuedAt + policy.maxWaitSeconds * 1000;
          const start = startOf.get(s.submissionPk) ?? Number.POSITIVE_INFINITY;
          if (start <= due) continue;
          const ahead = submissions.filter(
            (o) =>
              o.track === s.track &&
              (o.queuedAt < s.queuedAt || (o.queuedAt === s.queuedAt && o.submissionPk < s.submissionPk)) &&
              (startOf.get(o.submissionPk) ?? 0) > due,
          ).length;
          const slots = Math.floor((policy.capacity[s.track] ?? 0) / s.workers);
          expect(start - due).toBeLessThanOrEqual(R * (Math.ceil((ahead + 1) / slots) + 1));
        }
      }),
      { numRuns: 150 },
    );
  });
});
