import type { CapacityType } from '../cost/prices.js';
import { isTerminal, type SubmissionStatus } from '../lifecycle.js';
import type { PlanStrategy } from '../routes/plan.js';
import type { FailureClass } from './failure-class.js';
import type { SubmissionRef, TerminalStatus } from './payloads.js';

export type { SubmissionRef, TerminalStatus } from './payloads.js';

export interface WorkerAssignmentRecord {
  readonly worker: number;
  readonly routeIds: readonly string[];
  readonly routesSubset: string;
  readonly jobName: string;
  /** When the worker left spot for on-demand capacity, in a Job of its own (a spot-first track). */
  readonly onDemandSince?: string;
}

export interface SubmissionPlanRecord {
  readonly strategy: PlanStrategy;
  readonly workerCount: number;
  readonly repetitions: number;
  /** Routes × repetitions: the number of records a complete result has. */
  readonly expectedRoutes: number;
  readonly routesKey: string;
  /** Metres the evaluation drives: the routes' lengths × repetitions (none on a plan stored before it was). */
  readonly metres?: number;
  readonly workers: readonly WorkerAssignmentRecord[];
}

/** A worker pod's hold on a GPU node: from its start to its end (none while it runs), and what node. */
export interface PodRun {
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly instanceType?: string;
  readonly capacityType?: CapacityType;
}

/**
 * What one Job of a worker's attempt used: its pods (a new one after each crash or lost node) and its lost
 * nodes. A worker moved to on-demand capacity has a second Job, and so a second entry.
 */
export interface WorkerUsage {
  readonly attempt: number;
  readonly worker: number;
  readonly job: string;
  readonly interruptions: number;
  readonly pods: readonly PodRun[];
}

export interface SubmissionOutcome {
  readonly status: TerminalStatus;
  /** Why, in words for the participant (failed/cancelled). */
  readonly reason?: string;
  readonly failureClass?: FailureClass;
}

export interface StatusChange {
  readonly status: SubmissionStatus;
  readonly at: string;
  readonly attempt: number;
  readonly reason?: string;
}

/** The durable record of a submission: one item, all attempts. */
export interface SubmissionRecord extends SubmissionRef {
  readonly status: SubmissionStatus;
  /** When the participant submitted, as EvalAI says: how far back the status watch must look. */
  readonly submittedAt?: string;
  readonly history: readonly StatusChange[];
  readonly executionId?: string;
  readonly plan?: SubmissionPlanRecord;
  readonly progress?: { readonly done: number; readonly total: number };
  /** Digest of the last partial results sent to EvalAI, so unchanged results are not sent again. */
  readonly partialDigest?: string;
  /** Global statistics as numbers, by CARLA statistic name. */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly outcome?: SubmissionOutcome;
  /** True once EvalAI has accepted the terminal status of the current attempt. */
  readonly evalaiReported?: boolean;
  /** When the challenge's status watch saw this submission cancelled on EvalAI. */
  readonly cancelledOnEvalAiAt?: string;
  /**
   * Its place in Pitwall's queue (a stage with `queue`): when it began waiting, when it was admitted, and its
   * team's cap on the phase as EvalAI gave it then (where the stage sets none).
   */
  readonly admission?: {
    readonly requestedAt: string;
    readonly admittedAt?: string;
    readonly teamCap?: number;
    /** The scheduler would not admit it: the team's GPU-hour budget, in words for the participant. */
    readonly refusedReason?: string;
  };
  /** The GPU time of every attempt's workers, as Observe last saw their pods: what the evaluation cost. */
  readonly usage?: readonly WorkerUsage[];
  readonly updatedAt: string;
}

/** Fields a use case may set without changing the status. */
export type SubmissionPatch = Partial<
  Pick<
    SubmissionRecord,
    | 'plan'
    | 'progress'
    | 'partialDigest'
    | 'metrics'
    | 'outcome'
    | 'evalaiReported'
    | 'executionId'
    | 'deadline'
    | 'cancelledOnEvalAiAt'
    | 'admission'
    | 'usage'
  >
>;

/** The ids and facts an execution carries, as the record holds them. */
export function submissionRefOf(record: SubmissionRecord): SubmissionRef {
  const { submissionPk, challengePk, phasePk, attempt, track, teamPk, teamName, imageUri, registeredAt, deadline } =
    record;
  return { submissionPk, challengePk, phasePk, attempt, track, teamPk, teamName, imageUri, registeredAt, deadline };
}

/** What a resumed attempt starts without: the previous attempt's outcome and what was sent of it. */
export const CLEARED_ON_RESUME = [
  'outcome',
  'evalaiReported',
  'partialDigest',
  'metrics',
  'cancelledOnEvalAiAt',
  'admission',
] as const;

/** When this attempt's first worker pod was seen running (its `running` change), if it has been. */
export function attemptStartedAt(record: Pick<SubmissionRecord, 'attempt' | 'history'>): string | undefined {
  return record.history.find((c) => c.attempt === record.attempt && c.status === 'running')?.at;
}

/** Evaluation seconds the attempts before `attempt` used: each from its `running` change to its end. */
export function evaluationSecondsUsed(history: readonly StatusChange[], attempt: number): number {
  let used = 0;
  for (let a = 1; a < attempt; a++) {
    const changes = history.filter((c) => c.attempt === a);
    const start = changes.find((c) => c.status === 'running');
    const end = start && changes.slice(changes.indexOf(start) + 1).find((c) => isTerminal(c.status));
    if (start && end) used += Math.max(0, Date.parse(end.at) - Date.parse(start.at)) / 1000;
  }
  return Math.round(used);
}

/** The deadline of an attempt whose first worker pod runs at `startedAt`: the evaluation time left. */
export function evaluationDeadline(startedAt: Date, timeLimitSeconds: number, usedSeconds: number): string {
  return new Date(startedAt.getTime() + Math.max(0, timeLimitSeconds - usedSeconds) * 1000).toISOString();
}

/**
 * How the current attempt failed, if it did: a cancel, whoever's, is `cancelled`; a failure the class it was
 * given (`platform_error` for one recorded before classes were).
 */
export function failureClassOf(record: SubmissionRecord): FailureClass | undefined {
  if (record.status === 'cancelled') return 'cancelled';
  if (record.status !== 'failed') return undefined;
  return record.outcome?.failureClass ?? 'platform_error';
}
