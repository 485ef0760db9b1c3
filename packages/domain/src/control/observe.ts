import { MergeError, NotFoundError } from '../errors.js';
import { evalAiResultFields } from '../results/evalai-payload.js';
import { formatMergedCheckpoint } from '../results/merge.js';
import { pollWaitSeconds } from './config.js';
import { type ControlPlane, currentRecord, isoNow } from './deps.js';
import type { JobObservation } from './ports.js';
import type { SubmissionRecord, SubmissionRef } from './records.js';
import { digest, mergeSubmissionResults } from './results-io.js';

export const POLL_PHASES = ['running', 'done', 'failed', 'cancelled', 'timed_out', 'handover'] as const;
export type PollPhase = (typeof POLL_PHASES)[number];

/** The poll loop's state between two observations. */
export interface PollState {
  readonly phase: PollPhase;
  readonly turn: number;
  readonly waitSeconds: number;
  readonly reason?: string;
  readonly failedWorkers?: readonly number[];
}

/**
 * Observe: one look at the submission. Cancellation on EvalAI and the deadline come first, then the
 * workers' jobs; progress goes to DynamoDB and, when it changed, to EvalAI as partial results.
 */
export async function observeSubmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'evalai' | 'jobs' | 'clock'>,
  input: { submission: SubmissionRef; poll?: { turn?: number } },
): Promise<PollState> {
  const { submission } = input;
  const turn = (input.poll?.turn ?? 0) + 1;
  const end = (phase: PollPhase, reason?: string, failedWorkers?: number[]): PollState => ({
    phase,
    turn,
    waitSeconds: 0,
    ...(reason ? { reason } : {}),
    ...(failedWorkers ? { failedWorkers } : {}),
  });
  const record = await currentRecord(deps.store, submission);
  const plan = record.plan;
  if (!plan) throw new NotFoundError(`submission ${submission.submissionPk} has no plan`);

  const remote = await deps.evalai.getSubmission(submission.submissionPk);
  if (remote.status === 'cancelled') return end('cancelled', 'The submission was cancelled on EvalAI.');
  const now = deps.clock.now();
  if (now.getTime() > Date.parse(submission.deadline)) {
    const limit = Math.round((Date.parse(submission.deadline) - Date.parse(submission.registeredAt)) / 1000);
    return end('timed_out', `Time limit exceeded: the evaluation did not finish within ${limit} seconds.`);
  }

  const jobs = await Promise.all(plan.workers.map((w) => deps.jobs.observe(w.jobName)));
  const failed = plan.workers.flatMap((w, i) => (isBroken(jobs[i]) ? [{ worker: w.worker, job: jobs[i] }] : []));
  if (failed.length > 0) {
    const reasons = failed.map(({ worker, job }) => `worker ${worker}: ${describeFailure(job)}`);
    return end(
      'failed',
      `The evaluation failed. ${reasons.join('; ')}.`,
      failed.map((w) => w.worker),
    );
  }
  if (record.status === 'queued' && jobs.some((j) => j.state === 'running' || j.state === 'succeeded')) {
    await deps.evalai.patchStatus(submission.challengePk, { submissionPk: submission.submissionPk, status: 'running' });
    await deps.store.transition(submission.submissionPk, submission.attempt, 'running', { at: isoNow(deps.clock) });
  }
  await reportProgress(deps, record, submission);

  if (jobs.every((j) => j.state === 'succeeded')) return end('done');
  if (turn >= deps.config.poll.maxTurns) return end('handover');
  const ageSeconds = (now.getTime() - Date.parse(submission.registeredAt)) / 1000;
  return { phase: 'running', turn, waitSeconds: pollWaitSeconds(deps.config.poll, ageSeconds) };
}

function isBroken(job: JobObservation | undefined): boolean {
  return job === undefined || job.state === 'failed' || job.state === 'missing';
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

/** Merges what the workers have written so far; sends it to EvalAI only when it changed. */
async function reportProgress(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'evalai' | 'clock'>,
  record: SubmissionRecord,
  submission: SubmissionRef,
): Promise<void> {
  if (!record.plan) return;
  let report: Awaited<ReturnType<typeof mergeSubmissionResults>>;
  try {
    report = await mergeSubmissionResults(deps.artifacts, submission.submissionPk, record.plan);
  } catch (error) {
    if (error instanceof MergeError) return; // Collect reports it once the workers are done
    throw error;
  }
  const merged = report.merged;
  if (merged._checkpoint.records.length === 0) return;
  const fingerprint = digest(formatMergedCheckpoint(merged));
  if (fingerprint === record.partialDigest) return;
  const fields = evalAiResultFields(merged, { leaderboard: deps.config.leaderboard });
  const sent = await deps.evalai.putPartialResult(submission.challengePk, {
    submissionPk: submission.submissionPk,
    phasePk: submission.phasePk,
    ...fields,
  });
  const progress = { done: merged._checkpoint.records.length, total: record.plan.expectedRoutes };
  await deps.store.patch(
    submission.submissionPk,
    submission.attempt,
    sent ? { progress, partialDigest: fingerprint } : { progress },
    isoNow(deps.clock),
  );
}
