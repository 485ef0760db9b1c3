import { CheckpointRejectedError } from '../errors.js';
import { isTerminal } from '../lifecycle.js';
import { parseCheckpoint } from '../results/checkpoint.js';
import { type QueuePlace, queuePlaces } from './admission.js';
import { artifactKeys } from './artifact-keys.js';
import { type SubmissionCost, submissionCost } from './cost.js';
import { FAILURE_CLASSES, type FailureClass, type FailureFault } from './failure-class.js';
import type { ControlPlane, WorkerActivity } from './ports.js';
import { attemptStartedAt, failureClassOf, type SubmissionRecord } from './records.js';

/** One team's best published result on a phase. */
export interface PublishedEntry {
  readonly submissionPk: number;
  readonly teamName: string;
  readonly phasePk: number;
  readonly values: Readonly<Record<string, number>>;
  /** Its place on its phase's board: equal Driving scores share one (sharedRanks). */
  readonly rank: number;
}

/** Places on a board of scores sorted best first: equal scores share a place, and the next skips (1, 2, 2, 4). */
export function sharedRanks(scores: readonly number[]): number[] {
  return scores.map((score, i) => (i > 0 && score === scores[i - 1] ? scores.indexOf(score) : i) + 1);
}

/**
 * The board from what Pitwall published: each finished run's stored EvalAI result on the split, the best
 * Driving score per team and phase first (EvalAI's own board needs the split's id, which Pitwall is not told).
 */
export async function publishedLeaderboard(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts'>,
  records?: readonly SubmissionRecord[],
): Promise<PublishedEntry[]> {
  const best = new Map<string, Omit<PublishedEntry, 'rank'>>();
  const score = (entry: Omit<PublishedEntry, 'rank'>) => entry.values['Driving score'] ?? Number.NEGATIVE_INFINITY;
  for (const record of records ?? (await deps.store.listAll())) {
    if (record.status !== 'finished') continue;
    const stored = await deps.artifacts.get(artifactKeys.evalai(record.submissionPk, 'result.json'));
    for (const values of publishedValues(stored, deps.config.leaderboard.split)) {
      const entry = { submissionPk: record.submissionPk, teamName: record.teamName, phasePk: record.phasePk, values };
      const key = `${record.phasePk}/${record.teamPk}`;
      const held = best.get(key);
      if (!held || score(entry) > score(held)) best.set(key, entry);
    }
  }
  const sorted = [...best.values()].sort((a, b) => a.phasePk - b.phasePk || score(b) - score(a));
  return [...new Set(sorted.map((e) => e.phasePk))].flatMap((phasePk) => {
    const board = sorted.filter((e) => e.phasePk === phasePk);
    const ranks = sharedRanks(board.map(score));
    return board.map((entry, i) => ({ ...entry, rank: ranks[i] ?? i + 1 }));
  });
}

/** The accuracies on one split of EvalAI's result file as Publish stored it; anything malformed is none. */
function publishedValues(text: string | undefined, split: string): Record<string, number>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((entry: { split?: unknown; accuracies?: unknown }) => {
    if (entry?.split !== split || typeof entry.accuracies !== 'object' || entry.accuracies === null) return [];
    const numbers = Object.entries(entry.accuracies).filter(([, v]) => typeof v === 'number');
    return [Object.fromEntries(numbers) as Record<string, number>];
  });
}

export interface WorkerProgress {
  readonly worker: number;
  readonly done: number;
  readonly total: number;
  readonly heartbeatAt?: string;
}

export interface OverviewSubmission {
  readonly submissionPk: number;
  readonly teamName: string;
  readonly phasePk: number;
  readonly track: string;
  readonly status: SubmissionRecord['status'];
  readonly attempt: number;
  /** When it started waiting (registered) or running. */
  readonly since: string;
  readonly progress?: { readonly done: number; readonly total: number };
  readonly workers: readonly WorkerProgress[];
  /** Its place in Pitwall's queue, while it waits there. */
  readonly queue?: QueuePlace;
  /** What its GPU time has cost so far, while it runs. */
  readonly cost?: SubmissionCost;
  /** While it runs: when any worker's agent last wrote (its log or checkpoint), and when its time is up. */
  readonly lastProgressAt?: string;
  readonly deadline?: string;
}

export interface OverviewFailure {
  readonly submissionPk: number;
  readonly teamName: string;
  readonly failureClass: FailureClass;
  readonly fault: FailureFault;
  readonly reason: string;
  readonly at: string;
}

/** What the live page shows: the queue, the runs with their workers, recent failures and the board. */
export interface Overview {
  readonly generatedAt: string;
  readonly waiting: readonly OverviewSubmission[];
  readonly running: readonly OverviewSubmission[];
  /** Workers of running submissions: each holds one GPU. */
  readonly workersRunning: number;
  readonly failures: readonly OverviewFailure[];
  readonly leaderboard: readonly PublishedEntry[];
}

export const RECENT_FAILURES = 10;

export async function overviewOf(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'admissions' | 'clock'>,
): Promise<Overview> {
  const records = await deps.store.listAll();
  const active = records.filter((r) => !isTerminal(r.status));
  const running = await Promise.all(active.filter((r) => r.status === 'running').map((r) => withWorkers(deps, r)));
  const places = await queuePlaces(deps, records);
  // In the queue's order first, then those past it (admitted, pods pending), oldest first.
  const rank = (r: SubmissionRecord) => places.get(r.submissionPk)?.position ?? Number.MAX_SAFE_INTEGER;
  const waiting = active
    .filter((r) => r.status !== 'running')
    .sort((a, b) => rank(a) - rank(b) || a.registeredAt.localeCompare(b.registeredAt))
    .map((r) => submissionOf(r, [], places.get(r.submissionPk)));
  const failures = records
    .flatMap((record): OverviewFailure[] => {
      const failureClass = failureClassOf(record);
      if (!failureClass) return [];
      const change = record.history.at(-1);
      const reason = (record.outcome?.reason ?? change?.reason ?? '').split('\n')[0] ?? '';
      const { fault } = FAILURE_CLASSES[failureClass];
      const at = change?.at ?? record.updatedAt;
      return [{ submissionPk: record.submissionPk, teamName: record.teamName, failureClass, fault, reason, at }];
    })
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, RECENT_FAILURES);
  return {
    generatedAt: deps.clock.now().toISOString(),
    waiting,
    running,
    workersRunning: running.reduce((n, r) => n + r.workers.length, 0),
    failures,
    leaderboard: await publishedLeaderboard(deps, records),
  };
}

function submissionOf(
  record: SubmissionRecord,
  workers: readonly WorkerProgress[],
  queue?: QueuePlace,
): OverviewSubmission {
  return {
    submissionPk: record.submissionPk,
    teamName: record.teamName,
    phasePk: record.phasePk,
    track: record.track,
    status: record.status,
    attempt: record.attempt,
    since: attemptStartedAt(record) ?? record.registeredAt,
    ...(record.progress ? { progress: record.progress } : {}),
    workers,
    ...(queue ? { queue } : {}),
  };
}

/** Each worker's routes done of its own, from its checkpoint as logcopy uploaded it (0 until it is readable). */
async function withWorkers(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'clock'>,
  record: SubmissionRecord,
): Promise<OverviewSubmission> {
  const plan = record.plan;
  if (!plan) return submissionOf(record, []);
  const activity = await deps.store.workerActivity(
    record.submissionPk,
    plan.workers.map((w) => w.worker),
  );
  const workers = await Promise.all(
    plan.workers.map(async (w) => {
      const total = w.routeIds.length * plan.repetitions;
      let done = 0;
      try {
        const raw = await deps.artifacts.get(artifactKeys.checkpoint(record.submissionPk, w.worker));
        done = raw ? (parseCheckpoint(raw)?._checkpoint.records.length ?? 0) : 0;
      } catch (error) {
        if (!(error instanceof CheckpointRejectedError)) throw error; // an unreadable file shows as none done
      }
      const heartbeatAt = activity.find((a) => a.worker === w.worker && a.attempt === record.attempt)?.heartbeatAt;
      return { worker: w.worker, done: Math.min(done, total), total, ...(heartbeatAt ? { heartbeatAt } : {}) };
    }),
  );
  return {
    ...submissionOf(record, workers),
    cost: submissionCost(record, deps.config.prices, deps.clock.now()),
    ...runHealth(record, activity),
  };
}

/**
 * What tells a stuck run from a healthy one: when its agents last wrote anything (a hung agent's workers show
 * the same progress for ever) and when its time is up.
 */
export function runHealth(
  record: Pick<SubmissionRecord, 'attempt' | 'deadline' | 'status'>,
  activity: readonly WorkerActivity[],
): Pick<OverviewSubmission, 'lastProgressAt' | 'deadline'> {
  const written = activity
    .filter((a) => a.attempt === record.attempt && a.lastOutputAt)
    .map((a) => a.lastOutputAt as string)
    .sort();
  const last = written.at(-1);
  return {
    ...(last ? { lastProgressAt: last } : {}),
    ...(record.status === 'running' ? { deadline: record.deadline } : {}),
  };
}

/** What the public status page shows: submission ids, queue places and progress; team names only if allowed. */
export interface PublicStatus {
  readonly generatedAt: string;
  readonly waiting: readonly {
    readonly submissionPk: number;
    readonly position?: number;
    readonly estimatedStartAt?: string;
    readonly team?: string;
  }[];
  readonly running: readonly {
    readonly submissionPk: number;
    readonly done: number;
    readonly total: number;
    readonly team?: string;
  }[];
}

/** The overview cut down for anyone to read: no reasons, no failures, team names only with `showTeamNames`. */
export function publicStatusOf(overview: Overview, showTeamNames: boolean): PublicStatus {
  const team = (name: string) => (showTeamNames ? { team: name } : {});
  return {
    generatedAt: overview.generatedAt,
    waiting: overview.waiting.map((s) => ({
      submissionPk: s.submissionPk,
      ...(s.queue ? { position: s.queue.position } : {}),
      ...(s.queue?.estimatedStartAt ? { estimatedStartAt: s.queue.estimatedStartAt } : {}),
      ...team(s.teamName),
    })),
    running: overview.running.map((s) => ({
      submissionPk: s.submissionPk,
      done: s.workers.reduce((n, w) => n + w.done, 0),
      total: s.workers.reduce((n, w) => n + w.total, 0),
      ...team(s.teamName),
    })),
  };
}
