import type { TrackConfig } from './config.js';
import { FAILURE_CLASSES, type Failure, type FailureClass } from './failure-class.js';
import type { PollPhase } from './payloads.js';
import { CANCELLED_ON_EVALAI, type ContainerObservation, type JobObservation, type WorkerActivity } from './ports.js';
import { attemptStartedAt, type SubmissionRecord, type SubmissionRef, type WorkerAssignmentRecord } from './records.js';

/** A run EvalAI shows cancelled: how Observe ends it, wherever it sees so. */
export const CANCELLED: Failure = { reason: CANCELLED_ON_EVALAI, failureClass: 'cancelled' };

/** What one look at a running attempt found: whether it ends here and why, or goes on. */
export interface LookVerdict {
  /** Set when the run ends at this look. */
  readonly end?: { readonly phase: PollPhase; readonly failure: Failure; readonly failedWorkers?: number[] };
  /** Every worker's Job succeeded. */
  readonly done: boolean;
  /** A worker's pod ran (or is done): the evaluation started. */
  readonly started: boolean;
}

/**
 * The verdict of one look, with no I/O: a cancel on EvalAI ends it first, then the deadline (unless every
 * worker is done: a run finished by now is done, even a little past it), then a broken or idle worker. When
 * workers failed differently, the platform's fault is named first: no participant is blamed for it.
 */
export function judgeLook(look: {
  readonly record: SubmissionRecord;
  readonly submission: SubmissionRef;
  readonly workers: readonly WorkerAssignmentRecord[];
  readonly jobs: readonly JobObservation[];
  readonly activity: readonly WorkerActivity[];
  readonly track: TrackConfig | undefined;
  readonly cancelled: boolean;
  readonly now: Date;
}): LookVerdict {
  const { record, submission, workers, jobs, activity, track, now } = look;
  const done = jobs.every((j) => j.state === 'succeeded');
  const started = jobs.some((j) => j.state === 'running' || j.state === 'succeeded');
  if (look.cancelled) return { done, started, end: { phase: 'cancelled', failure: CANCELLED } };
  const overdue = done ? undefined : overdueReason(record, track, started, now);
  if (overdue) return { done, started, end: { phase: 'timed_out', failure: overdue } };
  const failed = workers.flatMap((w, i) => {
    const heartbeat = activity.find((a) => a.worker === w.worker && a.attempt === submission.attempt);
    const failure =
      brokenReason(jobs[i], submission, now) ?? idleReason(jobs[i], heartbeat, track?.idleTimeoutSeconds, now);
    return failure ? [{ worker: w.worker, ...failure }] : [];
  });
  if (failed.length === 0) return { done, started };
  const reasons = failed.map(({ worker, reason }) => `worker ${worker}: ${reason}`);
  const first = failed.find((w) => FAILURE_CLASSES[w.failureClass].fault === 'platform') ?? failed[0];
  return {
    done,
    started,
    end: {
      phase: 'failed',
      failure: {
        reason: `The evaluation failed. ${reasons.join('; ')}.`,
        failureClass: first?.failureClass ?? 'platform_error',
      },
      failedWorkers: failed.map((w) => w.worker),
    },
  };
}

/**
 * Why the attempt is out of time, if it is: still waiting for its first worker pod past the queue timeout,
 * or past its deadline (once a pod ran, its start plus the evaluation time left).
 */
export function overdueReason(
  record: SubmissionRecord,
  track: TrackConfig | undefined,
  started: boolean,
  now: Date,
): Failure | undefined {
  const waiting = !started && attemptStartedAt(record) === undefined;
  // Waiting for a GPU node starts at admission; the wait in Pitwall's queue before it does not count.
  const since = Date.parse(record.admission?.admittedAt ?? record.registeredAt);
  if (waiting && track && now.getTime() - since > track.queueTimeoutSeconds * 1000) {
    return {
      reason: `No GPU became available within ${track.queueTimeoutSeconds} seconds: the evaluation could not start. Please resubmit later.`,
      failureClass: 'queue_timeout',
    };
  }
  if (now.getTime() <= Date.parse(record.deadline)) return undefined;
  return {
    reason: `Time limit exceeded: the evaluation did not finish within ${track?.timeLimitSeconds ?? 0} seconds.`,
    failureClass: 'time_limit',
  };
}

/**
 * Why a worker cannot go on, if it cannot: its job failed or vanished, or a container has waited past
 * UNRECOVERABLE_GRACE_SECONDS for what never resolves by waiting (an image that cannot be pulled), which
 * would otherwise hold a GPU node until the deadline.
 */
export function brokenReason(
  job: JobObservation | undefined,
  submission: SubmissionRef,
  now: Date,
): Failure | undefined {
  if (job === undefined || job.state === 'failed' || job.state === 'missing') {
    return { reason: describeFailure(job), failureClass: failureClassOfJob(job) };
  }
  if (job.state !== 'pending' && job.state !== 'running') return undefined;
  for (const container of job.containers) {
    const waiting = container.waiting;
    if (!waiting || !UNRECOVERABLE_WAITS.has(waiting.reason)) continue;
    if (now.getTime() - Date.parse(waiting.since) < UNRECOVERABLE_GRACE_SECONDS * 1000) continue;
    const detail = `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    if (container.name !== 'agent') {
      return {
        reason: `the ${container.name} container could not start (${detail}); this is a problem of the evaluation backend`,
        failureClass: 'platform_error',
      };
    }
    if (waiting.reason === 'CreateContainerConfigError') {
      return { reason: `the agent container could not be created (${detail})`, failureClass: 'agent_setup' };
    }
    return { reason: `The image ${submission.imageUri} could not be pulled: ${detail}`, failureClass: 'image_pull' };
  }
  return undefined;
}

/** The idle watchdog: a running agent whose output logcopy has not seen change for the track's limit. */
export function idleReason(
  job: JobObservation | undefined,
  activity: WorkerActivity | undefined,
  limitSeconds: number | undefined,
  now: Date,
): Failure | undefined {
  if (job?.state !== 'running' || !activity?.lastOutputAt || limitSeconds === undefined) return undefined;
  const idle = Math.floor((now.getTime() - Date.parse(activity.lastOutputAt)) / 1000);
  if (!(idle > limitSeconds)) return undefined;
  return {
    reason: `The agent produced no output for ${idle} s (the limit is ${limitSeconds} s) and was stopped`,
    failureClass: 'agent_idle',
  };
}

/** Container waits that never end by themselves (kubelet's reasons). */
const UNRECOVERABLE_WAITS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
]);
/** ErrImagePull can clear on a retry of the pull: this long, and it is not going to. */
export const UNRECOVERABLE_GRACE_SECONDS = 180;

/**
 * The pod scripts' exit when a round ended because the partner's did (common.sh's PARTNER_CRASHED_EXIT): not
 * the container's own failure. With 0 (done) and 143 (SIGTERM: the pod was going), not a failure at all.
 */
export const PARTNER_CRASHED_EXIT = 3;

/** A container's end for writing past its ephemeral-storage limit (the pod evicted), as OOMKilled is for memory. */
export const EPHEMERAL_STORAGE_EXCEEDED = 'EphemeralStorageExceeded';
const NOT_ITS_OWN_FAILURE = new Set([0, PARTNER_CRASHED_EXIT, 143]);

/** When a container first failed on its own, from its exits (or its last one, where only that is known). */
function firstOwnFailure(container: ContainerObservation | undefined): number | undefined {
  if (!container) return undefined;
  const exits =
    container.exits ??
    (container.lastExitCode === undefined ? [] : [{ exitCode: container.lastExitCode, at: new Date(0).toISOString() }]);
  const times = exits.filter((e) => !NOT_ITS_OWN_FAILURE.has(e.exitCode)).map((e) => Date.parse(e.at));
  return times.length > 0 ? Math.min(...times) : undefined;
}

/**
 * Which container brought a failed job down: the one that failed on its own first (its partner then ends its
 * round with PARTNER_CRASHED_EXIT). The agent's is the participant's fault, the simulator's the platform's;
 * an agent that ended on a crash its simulator never had (a forged marker) is the participant's too; a job
 * gone, or failed with no container to blame, the platform's.
 */
function failureClassOfJob(job: JobObservation | undefined): FailureClass {
  if (!job || job.state === 'missing') return 'platform_error';
  if (job.reason === 'DeadlineExceeded') return 'time_limit';
  const container = (name: string) => job.containers.find((c) => c.name === name);
  const overStorage = job.containers.find((c) => c.lastReason === EPHEMERAL_STORAGE_EXCEEDED);
  if (overStorage) return overStorage.name === 'agent' ? 'resource_limit' : 'platform_error';
  const agent = firstOwnFailure(container('agent'));
  const simulator = firstOwnFailure(container('simulator'));
  if (simulator !== undefined && (agent === undefined || simulator < agent)) return 'simulator_crashed';
  if (agent !== undefined) return 'agent_crashed';
  const agentExit = container('agent')?.lastExitCode;
  return agentExit !== undefined && agentExit !== 0 ? 'agent_crashed' : 'platform_error';
}

export function describeFailure(job: JobObservation | undefined): string {
  if (!job || job.state === 'missing') return 'its job disappeared from the cluster';
  const crashes = job.containers
    .filter((c) => c.restarts > 0 || (c.lastExitCode !== undefined && c.lastExitCode !== 0))
    .map(
      (c) =>
        `${c.name} exited with code ${c.lastExitCode ?? '?'}${c.lastReason ? ` (${c.lastReason})` : ''}, ${c.restarts} restart(s)`,
    );
  return [job.reason ?? 'its job failed', ...crashes].join(', ');
}
