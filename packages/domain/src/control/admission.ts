import {
  EvalAiRejectedError,
  EvalAiResponseError,
  NotFoundError,
  RecordChangedError,
  StaleAttemptError,
} from '../errors.js';
import { isTerminal } from '../lifecycle.js';
import { usageNow } from '../queue/admission-ledger.js';
import {
  admit,
  type FairQueuePolicy,
  type QueuedSubmission,
  queueOrder,
  teamCapOf,
  teamPhaseKey,
} from '../queue/fair-queue.js';
import { budgetRefusalAtAdmission } from './budget.js';
import { type ChallengeConfig, trackOf } from './config.js';
import type { AdmissionState, SubmissionRef } from './payloads.js';
import {
  CANCELLED_ON_EVALAI,
  type ControlPlane,
  cancelledOnEvalAi,
  currentRecord,
  type EvalAiHost,
  isoNow,
} from './ports.js';
import { evaluationDeadline, evaluationSecondsUsed, type SubmissionRecord } from './records.js';
import { watchEvalAiStatuses } from './status-watch.js';
import { kilometresLeft, kilometresPerGpuHour } from './throughput.js';

type Queue = NonNullable<ChallengeConfig['queue']>;

/** The longest a submission may wait in Pitwall's queue: within the execution's own 15 days. */
export const MAX_QUEUE_WAIT_SECONDS = 14 * 24 * 3600;

/** A team's cap on a phase where neither the stage nor EvalAI gives one. */
const DEFAULT_TEAM_CAP = 1;

/** The stage's queue settings as the policy reads them. */
export function queuePolicyOf(queue: Queue): FairQueuePolicy {
  return {
    capacity: queue.capacity,
    maxConcurrentPerTeam: queue.maxConcurrentPerTeam ?? DEFAULT_TEAM_CAP,
    halfLifeSeconds: queue.halfLifeSeconds,
    weights: Object.fromEntries(Object.entries(queue.weights).map(([team, weight]) => [Number(team), weight])),
    maxWaitSeconds: queue.maxWaitSeconds,
    deadlineMode: queue.deadlineMode,
  };
}

/** The teams with a finished run on a phase, for deadline mode. */
function teamsWithResult(records: readonly SubmissionRecord[]): ReadonlySet<string> {
  return new Set(records.filter((r) => r.status === 'finished').map(teamPhaseKey));
}

/**
 * AwaitAdmission, the state machine's wait in Pitwall's queue, between Plan and Launch. On a stage without
 * `queue` it admits at once. Otherwise its first turn puts the attempt in the queue (EvalAI shows it
 * `queued` from then on) and asks the scheduler once, since an arrival may fit at once; every turn after
 * reads only its own record, until the scheduler has admitted it, or a cancel ends the wait.
 */
export async function awaitAdmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'admissions' | 'clock'>,
  input: { submission: SubmissionRef; admission?: { turn?: number } },
): Promise<AdmissionState> {
  const { submission } = input;
  const pk = submission.submissionPk;
  const turn = (input.admission?.turn ?? 0) + 1;
  const queue = deps.config.queue;
  const admitted: AdmissionState = { phase: 'admitted', turn, waitSeconds: 0 };
  const refused = (reason: string): AdmissionState => ({ phase: 'refused', turn, waitSeconds: 0, reason });
  if (!queue) {
    // No queue: admitted now, if the team's budget still has room for it beside its runs under way.
    const reason = await budgetRefusal(deps, await currentRecord(deps.store, submission));
    return reason ? refused(reason) : admitted;
  }
  const cancelled: AdmissionState = { phase: 'cancelled', turn, waitSeconds: 0, reason: CANCELLED_ON_EVALAI };
  let record = await currentRecord(deps.store, submission);
  if (record.admission?.admittedAt) return admitted;
  if (record.admission?.refusedReason) return refused(record.admission.refusedReason);
  if (record.cancelledOnEvalAiAt || (await watchEvalAiStatuses(deps)).has(pk)) return cancelled;
  if (!record.admission) {
    if (await cancelledOnEvalAi(deps.evalai, pk)) return cancelled;
    const teamCap = queue.maxConcurrentPerTeam === undefined ? await phaseTeamCap(deps.evalai, submission) : undefined;
    await deps.evalai.patchStatus(submission.challengePk, { submissionPk: pk, status: 'queued' });
    const now = isoNow(deps.clock);
    // Waiting here is neither the queue timeout nor evaluation time: the sweeper leaves it be meanwhile.
    const deadline = new Date(deps.clock.now().getTime() + MAX_QUEUE_WAIT_SECONDS * 1000).toISOString();
    const admission = { requestedAt: now, ...(teamCap ? { teamCap } : {}) };
    await deps.store.patch(pk, submission.attempt, { admission, deadline }, now);
    await scheduleAdmissions(deps);
    record = await currentRecord(deps.store, submission);
    if (record.admission?.admittedAt) return admitted;
    if (record.admission?.refusedReason) return refused(record.admission.refusedReason);
  }
  return { phase: 'waiting', turn, waitSeconds: queue.pollSeconds };
}

/**
 * The phase's max_concurrent_submissions_allowed, the team's cap where the stage sets none; none when EvalAI
 * does not say (or cannot be understood), and the default applies.
 */
async function phaseTeamCap(evalai: EvalAiHost, submission: SubmissionRef): Promise<number | undefined> {
  try {
    return (await evalai.getPhase(submission.challengePk, submission.phasePk)).maxConcurrentSubmissions;
  } catch (error) {
    // EvalAI answers 406 for a phase not of the challenge (challenge_phase_detail), 404 elsewhere.
    if (
      error instanceof EvalAiResponseError ||
      error instanceof NotFoundError ||
      (error instanceof EvalAiRejectedError && error.status === 406)
    ) {
      return undefined;
    }
    throw error;
  }
}

export interface ScheduleReport {
  readonly waiting: number;
  readonly admitted: readonly number[];
  /** Slots given back that no live attempt held any more (a release lost to a crash). */
  readonly reclaimed: readonly number[];
}

/**
 * The scheduler: the one place admissions are decided, run on a schedule (the sweeper's), when capacity is
 * released (Cleanup) and when a submission arrives. It orders the waiting by the fair-queue policy and takes
 * each one's slots with the ledger's conditional writes, so two schedulers at once never overfill a track
 * or a team; what one admits, the other's take finds taken. Slots no live attempt holds are given back first.
 */
export async function scheduleAdmissions(
  deps: Pick<ControlPlane, 'config' | 'store' | 'admissions' | 'clock'>,
): Promise<ScheduleReport> {
  const queue = deps.config.queue;
  if (!queue) return { waiting: 0, admitted: [], reclaimed: [] };
  const now = deps.clock.now();
  const at = now.toISOString();
  const reclaimed: number[] = [];
  const admitted: number[] = [];
  const { holdings } = await deps.admissions.read();
  for (const holding of holdings) {
    const record = await deps.store.get(holding.submissionPk);
    if (record && record.attempt === holding.attempt && !isTerminal(record.status)) {
      // Slots taken, record never told (a scheduler stopped between the two): the admission is finished here.
      // (A run adopted from before the queue has no admission at all, and keeps its own deadline.)
      if (record.admission && !record.admission.admittedAt && (await recordAdmission(deps, record, now))) {
        admitted.push(record.submissionPk);
      }
      continue;
    }
    if (await deps.admissions.release(holding.submissionPk, holding.attempt, at, queue.halfLifeSeconds)) {
      reclaimed.push(holding.submissionPk);
    }
  }
  const active = await deps.store.listActive();
  const held = new Set(holdings.map((h) => h.submissionPk));
  await adoptRunsInFlight(
    deps,
    active.filter((r) => !held.has(r.submissionPk)),
    at,
  );
  const waitingRecords = waitingInQueue(active);
  const ledger = await deps.admissions.read();
  // Every record, read only in deadline mode (who has a result) or with a budget (what each team used and has
  // under way, this schedule's admissions too): one scan a schedule.
  const all = queue.deadlineMode || deps.config.budget ? await deps.store.listAll() : [];
  const state = {
    now: now.getTime(),
    waiting: waitingRecords.map(queuedOf),
    running: ledger.holdings,
    usage: usageNow(ledger, now.getTime(), queue.halfLifeSeconds),
    ...(queue.deadlineMode ? { withResult: teamsWithResult(all) } : {}),
  };
  const policy = queuePolicyOf(queue);
  let budgeted = all;
  for (const pick of admit(state, policy)) {
    const record = waitingRecords.find((r) => r.submissionPk === pick.submissionPk) as SubmissionRecord;
    if (await refusedForBudget(deps, record, budgeted, now)) continue;
    const limits = { trackWorkers: queue.capacity[pick.track] ?? 0, teamPlaces: teamCapOf(pick, policy) };
    if (!(await deps.admissions.take({ ...pick, attempt: record.attempt }, limits, at))) continue;
    if (!(await recordAdmission(deps, record, now))) continue;
    admitted.push(pick.submissionPk);
    const nowAdmitted = { ...record, admission: { requestedAt: at, ...record.admission, admittedAt: at } };
    budgeted = budgeted.map((r) => (r.submissionPk === record.submissionPk ? nowAdmitted : r));
  }
  return { waiting: waitingRecords.length, admitted, reclaimed };
}

/** Why the team's budget refuses this planned submission now, if it does (a stage with `budget`). */
async function budgetRefusal(
  deps: Pick<ControlPlane, 'config' | 'store' | 'clock'>,
  record: SubmissionRecord,
  records?: readonly SubmissionRecord[],
): Promise<string | undefined> {
  const { budget } = deps.config;
  if (!budget) return undefined;
  return budgetRefusalAtAdmission(records ?? (await deps.store.listAll()), record, budget, deps.clock.now());
}

/** A pick the team's budget refuses is marked so (its execution ends it on its next turn) and not admitted. */
async function refusedForBudget(
  deps: Pick<ControlPlane, 'config' | 'store' | 'clock'>,
  record: SubmissionRecord,
  records: readonly SubmissionRecord[],
  now: Date,
): Promise<boolean> {
  const reason = await budgetRefusal(deps, record, records);
  if (!reason) return false;
  const at = now.toISOString();
  const admission = { requestedAt: at, ...record.admission, refusedReason: reason };
  try {
    await deps.store.patch(record.submissionPk, record.attempt, { admission }, at);
  } catch (error) {
    // The attempt moved on meanwhile (a cancel, a resume): it is not this schedule's to refuse.
    if (!(error instanceof StaleAttemptError || error instanceof NotFoundError || error instanceof RecordChangedError))
      throw error;
  }
  return true;
}

/**
 * Runs launched before the stage had a queue hold GPUs and a team's place that the ledger does not know:
 * they are taken into it (whatever the limits: they run already), and their end gives them back as any
 * admitted run's does. A run of a stage with a queue always has an admission, so it is never adopted.
 */
async function adoptRunsInFlight(
  deps: Pick<ControlPlane, 'admissions'>,
  active: readonly SubmissionRecord[],
  at: string,
): Promise<void> {
  const unlimited = { trackWorkers: Number.MAX_SAFE_INTEGER, teamPlaces: Number.MAX_SAFE_INTEGER };
  for (const record of active) {
    if (record.admission || !record.plan || (record.status !== 'queued' && record.status !== 'running')) continue;
    const { submissionPk, attempt, teamPk, phasePk, track } = record;
    const claim = { submissionPk, attempt, teamPk, phasePk, track, workers: record.plan.workerCount };
    await deps.admissions.take(claim, unlimited, at);
  }
}

/**
 * The record told of its attempt's admission: from now on it has its queue timeout (for a GPU node) and its
 * evaluation time left. False, with the slots given back, when the attempt moved on (a resume, a record gone).
 */
async function recordAdmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'admissions'>,
  record: SubmissionRecord,
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  try {
    const track = trackOf(deps.config, record.phasePk);
    const deadline = evaluationDeadline(
      new Date(now.getTime() + (track?.queueTimeoutSeconds ?? 0) * 1000),
      track?.timeLimitSeconds ?? 0,
      evaluationSecondsUsed(record.history, record.attempt),
    );
    await deps.store.patch(
      record.submissionPk,
      record.attempt,
      { admission: { requestedAt: at, ...record.admission, admittedAt: at }, deadline },
      at,
    );
    return true;
  } catch (error) {
    await deps.admissions.release(record.submissionPk, record.attempt, at, deps.config.queue?.halfLifeSeconds ?? 0);
    if (!(error instanceof StaleAttemptError || error instanceof NotFoundError || error instanceof RecordChangedError))
      throw error;
    return false;
  }
}

/** A waiting submission's place in Pitwall's queue, and when it may start. */
export interface QueuePlace {
  /** 1 goes next. */
  readonly position: number;
  /**
   * When it may start: the route kilometres ahead of it on its track (what the admitted runs have left, and
   * the waiting ones before it) over the track's GPUs at the kilometres per GPU-hour its recent runs drove;
   * none until a run on the track has ended.
   */
  readonly estimatedStartAt?: string;
}

/** Each waiting submission's place, in the order the scheduler would admit them now. */
export async function queuePlaces(
  deps: Pick<ControlPlane, 'config' | 'admissions' | 'clock'>,
  records: readonly SubmissionRecord[],
): Promise<ReadonlyMap<number, QueuePlace>> {
  const queue = deps.config.queue;
  if (!queue) return new Map();
  const now = deps.clock.now().getTime();
  const waitingRecords = new Map(waitingInQueue(records).map((r) => [r.submissionPk, r]));
  const ledger = await deps.admissions.read();
  const usage = usageNow(ledger, now, queue.halfLifeSeconds);
  const withResult = teamsWithResult(records);
  const waiting = [...waitingRecords.values()].map(queuedOf);
  const order = queueOrder({ now, waiting, running: ledger.holdings, usage, withResult }, queuePolicyOf(queue));
  // The measured rate, once per track: each reads and sorts every record.
  const rates = new Map<string, number | undefined>();
  const rateOf = (track: string) => {
    if (!rates.has(track)) rates.set(track, kilometresPerGpuHour(records, track));
    return rates.get(track);
  };
  const kmAhead = new Map<string, number>();
  for (const r of records) {
    if (isTerminal(r.status) || !r.admission?.admittedAt) continue;
    kmAhead.set(r.track, (kmAhead.get(r.track) ?? 0) + kilometresLeft(r));
  }
  return new Map(
    order.map((s, i) => {
      const ahead = kmAhead.get(s.track) ?? 0;
      kmAhead.set(s.track, ahead + kilometresLeft(waitingRecords.get(s.submissionPk) as SubmissionRecord));
      const perGpuHour = rateOf(s.track);
      const gpus = queue.capacity[s.track] ?? 0;
      const estimate =
        perGpuHour === undefined || gpus === 0
          ? {}
          : { estimatedStartAt: new Date(now + Math.round((ahead / (perGpuHour * gpus)) * 3_600_000)).toISOString() };
      return [s.submissionPk, { position: i + 1, ...estimate }];
    }),
  );
}

function waitingInQueue(records: readonly SubmissionRecord[]): SubmissionRecord[] {
  return records.filter(
    (r) => !isTerminal(r.status) && r.plan && r.admission && !r.admission.admittedAt && !r.admission.refusedReason,
  );
}

function queuedOf(record: SubmissionRecord): QueuedSubmission {
  return {
    submissionPk: record.submissionPk,
    teamPk: record.teamPk,
    phasePk: record.phasePk,
    track: record.track,
    workers: record.plan?.workerCount ?? 0,
    queuedAt: Date.parse(record.admission?.requestedAt ?? record.registeredAt),
    ...(record.admission?.teamCap ? { teamCap: record.admission.teamCap } : {}),
  };
}
