import type { CapacityChoice } from '../cost/spot.js';
import { NotFoundError, StaleAttemptError } from '../errors.js';
import type { EvalAiStatus, SubmissionStatus } from '../lifecycle.js';
import type { AdmissionLedger } from '../queue/admission-ledger.js';
import type { ChallengeConfig } from './config.js';
import type { PodRun, SubmissionPatch, SubmissionRecord, SubmissionRef } from './records.js';

/** The submission as EvalAI's GET /api/jobs/submission/<pk> describes it (untrusted, validated by the adapter). */
export interface EvalAiSubmission {
  readonly id: number;
  readonly status: EvalAiStatus;
  readonly participantTeamPk: number;
  readonly participantTeamName: string;
  readonly challengePhasePk: number;
  /** When the participant submitted (ISO 8601). */
  readonly submittedAt?: string;
  /** When it was last resumed (ISO 8601). */
  readonly resumedAt?: string;
  /** The public URL of the submission's file: for a Docker challenge, `{"submitted_image_uri": …}`. */
  readonly inputFile?: string;
}

/** The phase, as EvalAI's GET /api/challenges/challenge/<c>/challenge_phase/<p> describes it (untrusted). */
export interface EvalAiPhase {
  readonly id: number;
  /** max_concurrent_submissions_allowed: a team's submissions in progress at once, when EvalAI gives it. */
  readonly maxConcurrentSubmissions?: number;
}

export interface EvalAiResultUpdate {
  readonly submissionPk: number;
  readonly phasePk: number;
  readonly result: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly metadata: string;
}

/** EvalAI's host REST API, as Pitwall uses it. */
export interface EvalAiHost {
  getSubmission(submissionPk: number): Promise<EvalAiSubmission>;
  getPhase(challengePk: number, phasePk: number): Promise<EvalAiPhase>;
  /**
   * The challenge's submissions in one status, those submitted after `submittedAfter` (exclusive) if given.
   * EvalAI does not paginate this list; it is one request however long.
   */
  listSubmissions(
    challengePk: number,
    status: EvalAiStatus,
    options?: { readonly submittedAfter?: string },
  ): Promise<EvalAiSubmission[]>;
  /**
   * The image named in the submission's input file: EvalAI's only record of it besides the message,
   * which some of EvalAI's senders leave out. Throws EvalAiResponseError when the file names none.
   */
  readSubmittedImage(submission: EvalAiSubmission): Promise<string>;
  /** PATCH update_submission: only queued and running. */
  patchStatus(
    challengePk: number,
    update: { submissionPk: number; status: 'queued' | 'running'; jobName?: string },
  ): Promise<void>;
  /** PUT update_submission: only finished, failed and cancelled. */
  putResult(
    challengePk: number,
    status: 'finished' | 'failed' | 'cancelled',
    update: EvalAiResultUpdate,
  ): Promise<void>;
  /**
   * PUT update_partially_evaluated_submission with partially_evaluated. Best effort: returns false
   * when Pitwall's request budget has no room for it right now.
   */
  putPartialResult(challengePk: number, update: EvalAiResultUpdate): Promise<boolean>;
  /**
   * POST submissions/<pk>/resume: EvalAI turns a failed submission resuming (same pk) and publishes its
   * message again. EvalAI refuses any other status (EvalAiRejectedError).
   */
  resumeSubmission(submissionPk: number): Promise<void>;
}

/** A worker's heartbeat, as its logcopy writes it on every pass. */
export interface WorkerActivity {
  readonly worker: number;
  readonly attempt: number;
  readonly heartbeatAt: string;
  /** When the agent's log or checkpoint last changed, as logcopy saw it. */
  readonly lastOutputAt?: string;
}

/** What a conditional write expects the record still to be, as it was read. */
export interface RecordExpectation {
  readonly status: SubmissionStatus;
  readonly executionId: string | undefined;
}

export interface NewSubmission extends SubmissionRef {
  readonly executionId: string;
  readonly at: string;
  readonly submittedAt?: string;
}

/** Durable submission records. Status changes are conditional: an illegal change is refused, never applied. */
export interface SubmissionStore {
  /** Creates the record of a first attempt; false when it already exists (a duplicate delivery). */
  create(submission: NewSubmission): Promise<boolean>;
  get(submissionPk: number): Promise<SubmissionRecord | undefined>;
  /** failed → resuming with the next attempt; false when the record is not failed at `fromAttempt` any more. */
  beginResume(submission: NewSubmission, fromAttempt: number): Promise<boolean>;
  /**
   * Throws IllegalTransitionError, StaleAttemptError when the record is at another attempt, or
   * RecordChangedError when `expect` no longer holds (the record's status or execution moved on since it
   * was read). A terminal status leaves the record active (listed for the sweeper) until EvalAI has it:
   * with `evalaiReported: true` in the patch, or after `markReported`.
   */
  transition(
    submissionPk: number,
    attempt: number,
    to: SubmissionStatus,
    change: { at: string; reason?: string; patch?: SubmissionPatch; expect?: RecordExpectation },
  ): Promise<SubmissionRecord>;
  /** EvalAI has the terminal status of this attempt: the record needs no more attention. */
  markReported(submissionPk: number, attempt: number, at: string): Promise<void>;
  /** Throws StaleAttemptError when the record is at another attempt. */
  patch(submissionPk: number, attempt: number, patch: SubmissionPatch, at: string): Promise<void>;
  /** Records that need attention: not terminal, or terminal and not yet on EvalAI (for the sweeper). */
  listActive(): Promise<SubmissionRecord[]>;
  /** Every submission's record, newest submission first: for the operator's tools, never a Task (a scan). */
  listAll(): Promise<SubmissionRecord[]>;
  /** Counts one more message re-sent to start this attempt of a submission; returns the count so far. */
  countResend(submissionPk: number, attempt: number, at: string): Promise<number>;
  /** What each worker's logcopy last reported (its heartbeat item), for the workers asked about. */
  workerActivity(submissionPk: number, workers: readonly number[]): Promise<WorkerActivity[]>;
  /**
   * Takes the challenge's status watch until `until`, if no one holds it at `at`: one Observe per period
   * asks EvalAI about the whole challenge. False when another holds it.
   */
  claimStatusWatch(challengePk: number, at: string, until: string): Promise<boolean>;
  hasQualification(teamPk: number, track: string): Promise<boolean>;
  grantQualification(teamPk: number, track: string, submissionPk: number, at: string): Promise<void>;
}

/** Files of a submission (checkpoints, logs, merged results, EvalAI files); see artifact-keys.ts. */
export interface ArtifactStore {
  get(key: string): Promise<string | undefined>;
  put(key: string, body: string, contentType?: string): Promise<void>;
}

export interface WorkerJobSpec {
  readonly name: string;
  readonly submissionPk: number;
  readonly attempt: number;
  readonly worker: number;
  readonly teamPk: number;
  readonly teamName: string;
  readonly track: string;
  readonly image: string;
  readonly routesKey: string;
  readonly routesSubset: string;
  readonly repetitions: number;
  /** Continue from the worker's checkpoint (a later attempt, or a worker moved to on-demand capacity). */
  readonly resume: boolean;
  /** The capacity its pods ask for: its track's, or on demand for a worker moved off spot. */
  readonly capacity: CapacityChoice;
  /** Seconds the job may run before Kubernetes stops it (activeDeadlineSeconds). */
  readonly activeDeadlineSeconds: number;
  /** Where the worker's files go in the artifact store. */
  readonly artifactPrefix: string;
}

export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'missing';

export interface ContainerObservation {
  readonly name: string;
  readonly restarts: number;
  readonly lastExitCode?: number;
  readonly lastReason?: string;
  /** Why the newest pod's container has not started (ErrImagePull, …), and since when its pod exists. */
  readonly waiting?: { readonly reason: string; readonly message?: string; readonly since: string };
  /**
   * How its runs ended, oldest first, as far as the executor still knows them (Kubernetes keeps a container's
   * current and previous termination per pod): who failed first is told by these.
   */
  readonly exits?: readonly ContainerExit[];
}

export interface ContainerExit {
  readonly exitCode: number;
  readonly at: string;
}

export interface JobObservation {
  readonly name: string;
  readonly state: JobState;
  /** Why the job failed, in words (deadline exceeded, backoff limit reached, …). */
  readonly reason?: string;
  /** Pods of the Job whose node was taken away (a spot reclaim, a drain): not failures, each resumed. */
  readonly interruptions?: number;
  /** Each pod's hold on a node, oldest first, as far as the cluster still shows them. */
  readonly pods?: readonly PodRun[];
  readonly containers: readonly ContainerObservation[];
}

/** A worker Job Pitwall launched, as the runner lists it (from its labels). */
export interface ListedJob {
  readonly name: string;
  readonly submissionPk: number;
  readonly attempt: number;
  /** When the job was created (ISO 8601). */
  readonly createdAt: string;
}

/** Runs a worker's Job: on EKS in production, as local processes on one machine. */
export interface JobRunner {
  /** Every worker Job Pitwall launched that is still there (for the sweeper's orphan check). */
  list(): Promise<readonly ListedJob[]>;
  /** 'exists' when a job of that name is already there: it counts as launched. */
  launch(spec: WorkerJobSpec): Promise<'created' | 'exists'>;
  observe(name: string): Promise<JobObservation>;
  /** Deletes the job and its pods (foreground); 'absent' when it was already gone. */
  delete(name: string): Promise<'deleted' | 'absent'>;
  /** The last bytes of a container's log, for the participant's stderr. */
  logTail(name: string, container: string, maxBytes: number): Promise<string>;
}

/** Whether a state-machine execution is still alive (for the sweeper). */
export interface ExecutionProbe {
  isRunning(executionId: string): Promise<boolean>;
}

/** Starts a fresh execution of the same state machine (the hand-over); returns its id. */
export interface ExecutionStarter {
  /** With a name, starting again is harmless: an execution of that name already started is the one returned. */
  start(input: unknown, name?: string): Promise<string>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The queue EvalAI publishes submission messages to: Pitwall writes to it only to re-send a lost message. */
export interface SubmissionQueue {
  /** One message for one submission; the id keeps a FIFO queue from dropping it as a duplicate. */
  send(message: {
    readonly body: string;
    readonly submissionPk: number;
    readonly deduplicationId: string;
  }): Promise<void>;
}

/** A message EvalAI holds in the challenge's queue, as its REST proxy hands it out. */
export interface QueuedMessage {
  /** The message, parsed as JSON by EvalAI; null when it was not JSON. */
  readonly body: unknown;
  readonly receiptHandle: string;
}

/**
 * EvalAI's REST proxy for the challenge's queue, for challenges whose queue is EvalAI's own (no
 * use_host_sqs): one message per request, short poll, until deleted.
 */
export interface EvalAiQueueProxy {
  /** The next message, or undefined when none is visible. */
  receive(): Promise<QueuedMessage | undefined>;
  delete(receiptHandle: string): Promise<void>;
}

/** Everything the control-plane use cases talk to; each handler wires only what it uses. */
export interface ControlPlane {
  readonly config: ChallengeConfig;
  readonly store: SubmissionStore;
  readonly artifacts: ArtifactStore;
  readonly evalai: EvalAiHost;
  readonly jobs: JobRunner;
  readonly queue: SubmissionQueue;
  /** EvalAI's REST proxy of the challenge's queue, which the relay empties into `queue`. */
  readonly intake: EvalAiQueueProxy;
  readonly clock: Clock;
  /** The slots of Pitwall's queue (a stage with `queue`). */
  readonly admissions: AdmissionLedger;
  readonly executions: ExecutionProbe;
  readonly starter: ExecutionStarter;
}

/** The record of this attempt; throws when the record is gone or a newer attempt replaced it. */
export async function currentRecord(store: SubmissionStore, ref: SubmissionRef): Promise<SubmissionRecord> {
  const record = await store.get(ref.submissionPk);
  if (!record) throw new NotFoundError(`submission ${ref.submissionPk} has no record`);
  if (record.attempt !== ref.attempt) {
    throw new StaleAttemptError(`submission ${ref.submissionPk} is at attempt ${record.attempt}, not ${ref.attempt}`);
  }
  return record;
}

export function isoNow(clock: Clock): string {
  return clock.now().toISOString();
}

export const CANCELLED_ON_EVALAI = 'The submission was cancelled on EvalAI.';

/**
 * EvalAI keeps whatever is written last, a participant's cancel included (§7), and has no conditional
 * update: every write Pitwall makes is preceded at once by this read, with no cluster, S3 or merge work
 * between the two, so the only window left for a cancel to be overwritten is one HTTP round trip.
 */
export async function cancelledOnEvalAi(evalai: EvalAiHost, submissionPk: number): Promise<boolean> {
  return (await evalai.getSubmission(submissionPk)).status === 'cancelled';
}
