import {
  addUsage,
  admit,
  type FairQueuePolicy,
  type QueuedSubmission,
  type TeamUsage,
  teamPhaseKey,
} from './fair-queue.js';

export interface SimulatedSubmission extends QueuedSubmission {
  /** How long it runs once admitted (ms). */
  readonly runMs: number;
}

export interface SimulatedRun {
  readonly submission: SimulatedSubmission;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface Simulation {
  readonly runs: readonly SimulatedRun[];
  /** GPU-ms left idle while a submission its team's cap allowed waited in the same track and would have fit. */
  readonly idleWhileWaitingGpuMs: number;
  /** GPU-ms of capacity over the simulated time. */
  readonly capacityGpuMs: number;
}

/**
 * The queue played forward: submissions arrive at `queuedAt`, `admit` runs at every arrival and every end,
 * and a team's use grows with each GPU-second its runs take (decayed). Pure: the fairness benchmark and
 * the property tests run the real policy through it.
 */
export function simulateQueue(submissions: readonly SimulatedSubmission[], policy: FairQueuePolicy): Simulation {
  const arrivals = [...submissions].sort((a, b) => a.queuedAt - b.queuedAt || a.submissionPk - b.submissionPk);
  const waiting: SimulatedSubmission[] = [];
  const running: Array<{ submission: SimulatedSubmission; startedAt: number; accountedAt: number }> = [];
  const runs: SimulatedRun[] = [];
  const usage = new Map<number, TeamUsage>();
  const withResult = new Set<string>();
  const first = arrivals[0]?.queuedAt ?? 0;
  let now = first;
  let idle = 0;
  let next = 0;
  while (next < arrivals.length || waiting.length > 0 || running.length > 0) {
    const nextArrival = arrivals[next]?.queuedAt ?? Number.POSITIVE_INFINITY;
    const nextEnd = Math.min(...running.map((r) => r.startedAt + r.submission.runMs));
    const at = Math.min(nextArrival, nextEnd);
    if (!Number.isFinite(at)) break; // only submissions that never fit are left
    idle += idleWhileWaiting(waiting, running, policy) * (at - now);
    now = at;
    for (const run of running) {
      const gpuSeconds = (run.submission.workers * (now - run.accountedAt)) / 1000;
      usage.set(
        run.submission.teamPk,
        addUsage(usage.get(run.submission.teamPk), gpuSeconds, now, policy.halfLifeSeconds),
      );
      run.accountedAt = now;
    }
    for (let i = running.length - 1; i >= 0; i -= 1) {
      const run = running[i];
      if (run && run.startedAt + run.submission.runMs <= now) {
        runs.push({ submission: run.submission, startedAt: run.startedAt, endedAt: now });
        withResult.add(teamPhaseKey(run.submission));
        running.splice(i, 1);
      }
    }
    while (next < arrivals.length && (arrivals[next]?.queuedAt ?? 0) <= now) {
      const arrival = arrivals[next];
      if (arrival) waiting.push(arrival);
      next += 1;
    }
    const admitted = admit({ now, waiting, running: running.map((r) => r.submission), usage, withResult }, policy);
    for (const submission of admitted) {
      waiting.splice(waiting.indexOf(submission as SimulatedSubmission), 1);
      running.push({ submission: submission as SimulatedSubmission, startedAt: now, accountedAt: now });
    }
  }
  const totalCapacity = Object.values(policy.capacity).reduce((sum, gpus) => sum + gpus, 0);
  return { runs, idleWhileWaitingGpuMs: idle, capacityGpuMs: totalCapacity * (now - first) };
}

/** GPUs free in tracks where a waiting submission under its team's cap would fit them. */
function idleWhileWaiting(
  waiting: readonly QueuedSubmission[],
  running: ReadonlyArray<{ submission: QueuedSubmission }>,
  policy: FairQueuePolicy,
): number {
  let idle = 0;
  for (const [track, capacity] of Object.entries(policy.capacity)) {
    const inTrack = running.filter((r) => r.submission.track === track);
    const free = capacity - inTrack.reduce((sum, r) => sum + r.submission.workers, 0);
    const teamRuns = (s: QueuedSubmission) =>
      running.filter((r) => r.submission.teamPk === s.teamPk && r.submission.phasePk === s.phasePk).length;
    const wanting = waiting.some(
      (s) => s.track === track && s.workers <= free && teamRuns(s) < policy.maxConcurrentPerTeam,
    );
    if (wanting) idle += free;
  }
  return idle;
}
