import { EvalAiBudgetSpentError, MergeError, NotFoundError } from '../errors.js';
import { evalAiResultFields } from '../results/evalai-payload.js';
import { formatMergedCheckpoint } from '../results/merge.js';
import { pollWaitSeconds, type TrackConfig, trackOf } from './config.js';
import { usageAfter } from './cost.js';
import { FAILURE_CLASSES, type Failure, type FailureClass } from './failure-class.js';
import { moveToOnDemand } from './move-to-on-demand.js';
import type { PollPhase, PollState } from './payloads.js';
import {
  CANCELLED_ON_EVALAI,
  type ContainerObservation,
  type ControlPlane,
  cancelledOnEvalAi,
  currentRecord,
  isoNow,
  type JobObservation,
  type WorkerActivity,
} from './ports.js';
import {
  attemptStartedAt,
  evaluationDeadline,
  evaluationSecondsUsed,
  type SubmissionRecord,
  type SubmissionRef,
} from './records.js';
import { digest as digestOf, mergeSubmissionResults } from './results-io.js';
import { watchEvalAiStatuses } from './status-watch.js';

const CANCELLED: Failure = { reason: CANCELLED_ON_EVALAI, failureClass: 'cancelled' };

/**
 * Observe: one look at the submission. The cluster and the workers' results are read first; then whether
 * it was cancelled, from the challenge's status watch (a cancel or the deadline ends the run here); then the
 * writes, each right after a fresh read of the submission on EvalAI: PATCH running once a worker started,
 * and partial results when they changed and the phase has partial evaluation. Progress goes to DynamoDB
 * either way.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: not yet split into read, decision and writes (#32 item 3)
export async function observeSubmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'evalai' | 'jobs' | 'clock'>,
  input: { submission: SubmissionRef; poll?: { turn?: number; handovers?: number } },
): Promise<PollState> {
  const { submission } = input;
  const pk = submission.submissionPk;
  const turn = (input.poll?.turn ?? 0) + 1;
  const carried = input.poll?.handovers ? { handovers: input.poll.handovers } : {};
  const end = (phase: PollPhase, failure?: Failure, failedWorkers?: number[]): PollState => ({
    phase,
    turn,
    waitSeconds: 0,
    ...carried,
    ...(failure ? { reason: failure.reason, failureClass: failure.failureClass } : {}),
    ...(failedWorkers ? { failedWorkers } : {}),
  });
  const record = await currentRecord(deps.store, submission);
  if (!record.plan) throw new NotFoundError(`submission ${pk} has no plan`);
  const now = deps.clock.now();
  const observed = await Promise.all(record.plan.workers.map((w) => deps.jobs.observe(w.jobName)));
  // What the pods used (their GPU time, nodes and lost nodes), written when it changed.
  const usage = usageAfter(
    record,
    record.plan.workers.map((w, i) => ({ worker: w.worker, job: observed[i] as JobObservation })),
  );
  if (usage) await deps.store.patch(pk, submission.attempt, { usage }, now.toISOString());
  // A spot-first worker that lost too many nodes goes on in a Job of its own on demand.
  const { plan, jobs } = await moveToOnDemand(
    deps,
    { ...record, plan: record.plan },
    submission,
    observed,
    usage ?? record.usage ?? [],
  );
  const done = jobs.every((j) => j.state === 'succeeded');
  const started = jobs.some((j) => j.state === 'running' || j.state === 'succeeded');
  const track = trackOf(deps.config, submission.phasePk);
  // The jobs come first: a run whose workers all finished by now is done, even a little past its deadline.
  const overdue = done ? undefined : overdueReason(record, track, started, now);
  // Heartbeats matter only to the idle watchdog, which only watches running workers.
  const activity = jobs.some((j) => j.state === 'running')
    ? await deps.store.workerActivity(
        pk,
        plan.workers.map((w) => w.worker),
      )
    : [];
  const idleLimit = track?.idleTimeoutSeconds;
  const failed = plan.workers.flatMap((w, i) => {
    const failure =
      brokenReason(jobs[i], submission, now) ??
      idleReason(
        jobs[i],
        activity.find((a) => a.worker === w.worker && a.attempt === submission.attempt),
        idleLimit,
        now,
      );
    return failure ? [{ worker: w.worker, ...failure }] : [];
  });
  const progress = failed.length > 0 || overdue ? undefined : await progressOf(deps, record);

  // A cancel, from the challenge's status watch: this Observe's own run of it, or an earlier one's mark.
  const watched = await watchEvalAiStatuses(deps);
  if (record.cancelledOnEvalAiAt || watched.has(pk)) return end('cancelled', CANCELLED);
  if (overdue) return end('timed_out', overdue);
  if (failed.length > 0) {
    const reasons = failed.map(({ worker, reason }) => `worker ${worker}: ${reason}`);
    // When workers failed differently, the platform's fault is named first: no participant is blamed for it.
    const first = failed.find((w) => FAILURE_CLASSES[w.failureClass].fault === 'platform') ?? failed[0];
    return end(
      'failed',
      {
        reason: `The evaluation failed. ${reasons.join('; ')}.`,
        failureClass: first?.failureClass ?? 'platform_error',
      },
      failed.map((w) => w.worker),
    );
  }
  // Each write to EvalAI right after a read of its own, with nothing slow between (cancel safety).
  if (record.status === 'queued' && started) {
    if (await cancelledOnEvalAi(deps.evalai, pk)) return end('cancelled', CANCELLED);
    await deps.evalai.patchStatus(submission.challengePk, { submissionPk: pk, status: 'running' });
    // The time limit starts now: what the earlier attempts used is taken off it.
    const used = evaluationSecondsUsed(record.history, record.attempt);
    const deadline = evaluationDeadline(now, track?.timeLimitSeconds ?? 0, used);
    await deps.store.transition(pk, submission.attempt, 'running', { at: now.toISOString(), patch: { deadline } });
  }
  if (progress) {
    let sent = false;
    if (progress.partial) {
      const cancelled = await cancelledBeforePartial(deps, pk);
      if (cancelled) return end('cancelled', CANCELLED);
      sent =
        cancelled === false &&
        (await deps.evalai.putPartialResult(submission.challengePk, {
          submissionPk: pk,
          phasePk: submission.phasePk,
          ...progress.partial.fields,
        }));
    }
    await deps.store.patch(
      pk,
      submission.attempt,
      sent && progress.partial
        ? { progress: progress.counts, partialDigest: progress.partial.digest }
        : { progress: progress.counts },
      isoNow(deps.clock),
    );
  }

  if (done) return end('done');
  if (turn >= deps.config.poll.maxTurns) return end('handover');
  const ageSeconds = (now.getTime() - Date.parse(submission.registeredAt)) / 1000;
  return { phase: 'running', turn, waitSeconds: pollWaitSeconds(deps.config.poll, ageSeconds), ...carried };
}

/**
 * The read before a partial result, which is best effort like the result itself: with no budget for the read
 * now, no partial result is sent this turn (undefined), and the run goes on.
 */
async function cancelledBeforePartial(deps: Pick<ControlPlane, 'evalai'>, pk: number): Promise<boolean | undefined> {
  try {
    return await cancelledOnEvalAi(deps.evalai, pk);
  } catch (error) {
    if (error instanceof EvalAiBudgetSpentError) return undefined;
    throw error;
  }
}

/**
 * Why the attempt is out of time, if it is: still waiting for its first worker pod past the queue timeout,
 * or past its deadline (once a pod ran, its start plus the evaluation time left).
 */
function overdueReason(
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
function brokenReason(job: JobObservation | undefined, submission: SubmissionRef, now: Date): Failure | undefined {
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
function idleReason(
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

interface Progress {
  readonly counts: { readonly done: number; readonly total: number };
  /** Partial results to send: only on phases with partial evaluation, and only when they changed. */
  readonly partial?: { readonly fields: ReturnType<typeof evalAiResultFields>; readonly digest: string };
}

/** What the workers have written so far, when it is news: merged, counted, and ready to send. */
async function progressOf(
  deps: Pick<ControlPlane, 'config' | 'artifacts'>,
  record: SubmissionRecord,
): Promise<Progress | undefined> {
  if (!record.plan) return undefined;
  let report: Awaited<ReturnType<typeof mergeSubmissionResults>>;
  try {
    report = await mergeSubmissionResults(deps.artifacts, record.submissionPk, record.plan);
  } catch (error) {
    if (error instanceof MergeError) return undefined; // Collect reports it once the workers are done
    throw error;
  }
  const merged = report.merged;
  const counts = { done: merged._checkpoint.records.length, total: record.plan.expectedRoutes };
  if (counts.done === 0) return undefined;
  if (!trackOf(deps.config, record.phasePk)?.partialEvaluation) {
    return counts.done === record.progress?.done ? undefined : { counts };
  }
  const digest = digestOf(formatMergedCheckpoint(merged));
  if (digest === record.partialDigest) return undefined;
  return { counts, partial: { fields: evalAiResultFields(merged, { leaderboard: deps.config.leaderboard }), digest } };
}
