import { EvalAiBudgetSpentError, MergeError, NotFoundError } from '../errors.js';
import { evalAiResultFields } from '../results/evalai-payload.js';
import { formatMergedCheckpoint } from '../results/merge.js';
import { pollWaitSeconds, trackOf } from './config.js';
import { usageAfter } from './cost.js';
import type { Failure } from './failure-class.js';
import { moveToOnDemand } from './move-to-on-demand.js';
import { CANCELLED, judgeLook } from './observe-decision.js';
import type { PollPhase, PollState } from './payloads.js';
import { type ControlPlane, cancelledOnEvalAi, currentRecord, isoNow, type JobObservation } from './ports.js';
import { evaluationDeadline, evaluationSecondsUsed, type SubmissionRecord, type SubmissionRef } from './records.js';
import { digest as digestOf, mergeSubmissionResults } from './results-io.js';
import { watchEvalAiStatuses } from './status-watch.js';

/**
 * Observe: one look at the submission. The cluster, the workers' heartbeats and the challenge's status watch
 * are read first; then the verdict (observe-decision.ts: a cancel, the deadline or a broken worker ends the
 * run here); then the writes, each right after a fresh read of the submission on EvalAI: PATCH running once a
 * worker started, and partial results when they changed and the phase has partial evaluation. Progress goes
 * to DynamoDB either way.
 */
export async function observeSubmission(
  deps: ObserveDeps,
  input: { submission: SubmissionRef; poll?: { turn?: number; handovers?: number } },
): Promise<PollState> {
  const { submission } = input;
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
  const look = await lookAt(deps, submission);
  const verdict = judgeLook(look);
  if (verdict.end) return end(verdict.end.phase, verdict.end.failure, verdict.end.failedWorkers);
  // Each write to EvalAI right after a read of its own, with nothing slow between (cancel safety).
  if (look.record.status === 'queued' && verdict.started) {
    if (await cancelledOnEvalAi(deps.evalai, submission.submissionPk)) return end('cancelled', CANCELLED);
    await markRunning(deps, look);
  }
  const progress = await progressOf(deps, look.record);
  if (progress && !(await reportProgress(deps, submission, progress))) return end('cancelled', CANCELLED);
  if (verdict.done) return end('done');
  if (turn >= deps.config.poll.maxTurns) return end('handover');
  const ageSeconds = (look.now.getTime() - Date.parse(submission.registeredAt)) / 1000;
  return { phase: 'running', turn, waitSeconds: pollWaitSeconds(deps.config.poll, ageSeconds), ...carried };
}

type ObserveDeps = Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'evalai' | 'jobs' | 'clock'>;

/**
 * The reads of one look: the workers' Jobs (their usage written when it changed; a spot-first worker that lost
 * too many nodes moved on demand), heartbeats of running ones, and whether EvalAI shows the run cancelled.
 */
async function lookAt(deps: ObserveDeps, submission: SubmissionRef) {
  const pk = submission.submissionPk;
  const record = await currentRecord(deps.store, submission);
  if (!record.plan) throw new NotFoundError(`submission ${pk} has no plan`);
  const now = deps.clock.now();
  const observed = await Promise.all(record.plan.workers.map((w) => deps.jobs.observe(w.jobName)));
  const usage = usageAfter(
    record,
    record.plan.workers.map((w, i) => ({ worker: w.worker, job: observed[i] as JobObservation })),
  );
  if (usage) await deps.store.patch(pk, submission.attempt, { usage }, now.toISOString());
  const { plan, jobs } = await moveToOnDemand(
    deps,
    { ...record, plan: record.plan },
    submission,
    observed,
    usage ?? record.usage ?? [],
  );
  // Heartbeats matter only to the idle watchdog, which only watches running workers.
  const activity = jobs.some((j) => j.state === 'running')
    ? await deps.store.workerActivity(
        pk,
        plan.workers.map((w) => w.worker),
      )
    : [];
  // A cancel, from the challenge's status watch: this Observe's own run of it, or an earlier one's mark.
  const cancelled = Boolean(record.cancelledOnEvalAiAt) || (await watchEvalAiStatuses(deps)).has(pk);
  const track = trackOf(deps.config, submission.phasePk);
  return { record, submission, workers: plan.workers, jobs, activity, track, cancelled, now };
}

/** EvalAI told the run is running; the time limit starts now, less what the earlier attempts used. */
async function markRunning(deps: ObserveDeps, look: Awaited<ReturnType<typeof lookAt>>): Promise<void> {
  const { submission, record, track, now } = look;
  await deps.evalai.patchStatus(submission.challengePk, { submissionPk: submission.submissionPk, status: 'running' });
  const used = evaluationSecondsUsed(record.history, record.attempt);
  const deadline = evaluationDeadline(now, track?.timeLimitSeconds ?? 0, used);
  await deps.store.transition(submission.submissionPk, submission.attempt, 'running', {
    at: now.toISOString(),
    patch: { deadline },
  });
}

/** The progress on the record, and partial results to EvalAI when they changed; false when EvalAI shows a cancel. */
async function reportProgress(deps: ObserveDeps, submission: SubmissionRef, progress: Progress): Promise<boolean> {
  const pk = submission.submissionPk;
  let sent = false;
  if (progress.partial) {
    const cancelled = await cancelledBeforePartial(deps, pk);
    if (cancelled) return false;
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
  return true;
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
