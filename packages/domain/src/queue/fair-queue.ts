/**
 * Who runs next when GPUs are scarce: Pitwall's own queue, in front of the cluster. A submission waits here,
 * with no pods and no GPU node asked for, until its track has room for its workers and its team is under
 * its cap; among those waiting, the team that used the least GPU time lately (decayed, per unit of weight)
 * goes first, so one team's burst cannot hold the others back for hours. A submission that has waited
 * `maxWaitSeconds` is overdue, and the overdue go first, oldest first: the guard that bounds every wait
 * (see `admit`).
 */

export interface QueuedSubmission {
  readonly submissionPk: number;
  readonly teamPk: number;
  readonly phasePk: number;
  readonly track: string;
  /** Its workers, one GPU each. */
  readonly workers: number;
  /** When Register took it (ms since the epoch). */
  readonly queuedAt: number;
  /** Its team's cap on its phase, where it has its own (the policy's `maxConcurrentPerTeam` otherwise). */
  readonly teamCap?: number;
}

export type RunningSubmission = Omit<QueuedSubmission, 'queuedAt' | 'teamCap'>;

/** A team's recent GPU use: GPU-seconds, decayed, as of `at` (ms since the epoch). */
export interface TeamUsage {
  readonly gpuSeconds: number;
  readonly at: number;
}

export interface FairQueuePolicy {
  /** Workers each track may run at once (its GPU budget); a track not named runs nothing. */
  readonly capacity: Readonly<Record<string, number>>;
  /** At most this many submissions of one team evaluating at once, per phase (unless a submission has its own). */
  readonly maxConcurrentPerTeam: number;
  /** Past use counts half as much after this long. */
  readonly halfLifeSeconds: number;
  /** A team's share; 1 when not named. */
  readonly weights?: Readonly<Record<number, number>>;
  /** A submission waiting this long goes before every one that has not. */
  readonly maxWaitSeconds: number;
  /** Near a deadline: teams with no result yet on the phase go before those with one (after the overdue). */
  readonly deadlineMode?: boolean;
}

export interface QueueState {
  readonly now: number;
  readonly waiting: readonly QueuedSubmission[];
  readonly running: readonly RunningSubmission[];
  readonly usage: ReadonlyMap<number, TeamUsage>;
  /** Teams with a result on a phase, as `teamPhaseKey` names them (read in deadline mode). */
  readonly withResult?: ReadonlySet<string>;
}

/** A team on a phase: what the per-team cap counts, and what `QueueState.withResult` holds. */
export const teamPhaseKey = (s: { readonly phasePk: number; readonly teamPk: number }) => `${s.phasePk}/${s.teamPk}`;

/** How many of its team's submissions may evaluate at once on its phase: its own cap, or the policy's. */
export const teamCapOf = (s: Pick<QueuedSubmission, 'teamCap'>, policy: FairQueuePolicy) =>
  s.teamCap ?? policy.maxConcurrentPerTeam;

/** A team's use, decayed to `now`. */
export function decayedUsage(usage: TeamUsage | undefined, now: number, halfLifeSeconds: number): number {
  if (!usage) return 0;
  return usage.gpuSeconds * 2 ** (-Math.max(0, now - usage.at) / 1000 / halfLifeSeconds);
}

/** A team's use after `gpuSeconds` more, decayed to `now`. */
export function addUsage(
  usage: TeamUsage | undefined,
  gpuSeconds: number,
  now: number,
  halfLifeSeconds: number,
): TeamUsage {
  return { gpuSeconds: decayedUsage(usage, now, halfLifeSeconds) + gpuSeconds, at: now };
}

/**
 * The waiting submissions, first to admit first: the overdue by age, then (deadline mode) the teams with no
 * result yet, then by decayed use per weight, then age.
 */
export function queueOrder(state: QueueState, policy: FairQueuePolicy): QueuedSubmission[] {
  const overdue = (s: QueuedSubmission) => state.now - s.queuedAt >= policy.maxWaitSeconds * 1000;
  const hasResult = (s: QueuedSubmission) =>
    Number(Boolean(policy.deadlineMode && state.withResult?.has(teamPhaseKey(s))));
  const share = (s: QueuedSubmission) =>
    decayedUsage(state.usage.get(s.teamPk), state.now, policy.halfLifeSeconds) / (policy.weights?.[s.teamPk] ?? 1);
  return [...state.waiting].sort(
    (a, b) =>
      Number(overdue(b)) - Number(overdue(a)) ||
      (overdue(a) ? 0 : hasResult(a) - hasResult(b) || share(a) - share(b)) ||
      a.queuedAt - b.queuedAt ||
      a.submissionPk - b.submissionPk,
  );
}

/**
 * The submissions to start now, in order. Each track takes them in `queueOrder` while its free workers
 * allow; a submission whose team is at its cap is passed over (it waits for its own team, not for GPUs).
 * The first that does not fit stops its track: nothing smaller slips past it, so a large submission is
 * not starved by small ones (with one size per track, as phases give, nothing is held back by it).
 *
 * The bound: a submission that is overdue at t waits at most until t + R × (⌈(n + 1) / S⌉ + 1), where R is
 * the longest run, S the submissions its track holds at once and n the overdue ahead of it at t (all
 * queued before it): overdue go oldest first, every running one ends within R so each R frees all S
 * places, and its own team's runs, which the cap may make it wait for, end within one more R.
 */
export function admit(state: QueueState, policy: FairQueuePolicy): QueuedSubmission[] {
  const free = new Map(Object.entries(policy.capacity));
  const perTeam = new Map<string, number>();
  for (const run of state.running) {
    free.set(run.track, (free.get(run.track) ?? 0) - run.workers);
    perTeam.set(teamPhaseKey(run), (perTeam.get(teamPhaseKey(run)) ?? 0) + 1);
  }
  const blocked = new Set<string>();
  const admitted: QueuedSubmission[] = [];
  for (const candidate of queueOrder(state, policy)) {
    // Larger than its track's whole budget, it never fits (the stage refuses such a phase): no block.
    if (blocked.has(candidate.track) || candidate.workers > (policy.capacity[candidate.track] ?? 0)) continue;
    if ((perTeam.get(teamPhaseKey(candidate)) ?? 0) >= teamCapOf(candidate, policy)) continue;
    const room = free.get(candidate.track) ?? 0;
    if (candidate.workers > room) {
      blocked.add(candidate.track);
      continue;
    }
    free.set(candidate.track, room - candidate.workers);
    perTeam.set(teamPhaseKey(candidate), (perTeam.get(teamPhaseKey(candidate)) ?? 0) + 1);
    admitted.push(candidate);
  }
  return admitted;
}
