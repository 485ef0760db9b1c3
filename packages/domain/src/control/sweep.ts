import { RecordChangedError } from '../errors.js';
import { isTerminal, type SubmissionStatus } from '../lifecycle.js';
import type { AttemptCost } from './cost.js';
import type { Failure, FailureClass } from './failure-class.js';
import { failSubmission } from './handle-failure.js';
import type { ControlPlane } from './ports.js';
import { failureClassOf, type SubmissionRecord } from './records.js';

export interface SweepReport {
  readonly examined: number;
  readonly failed: readonly number[];
  /** How many of those ended in each failure class. */
  readonly failureClasses: Readonly<Partial<Record<FailureClass, number>>>;
  /** What the attempts the sweep ended cost. */
  readonly costs: readonly AttemptCost[];
  /** The submissions not yet ended, by status, as the sweep found them (for the dashboard). */
  readonly activeByStatus: Readonly<Partial<Record<SubmissionStatus, number>>>;
  /** Workers of running submissions: each holds a GPU. */
  readonly workersRunning: number;
  /** Jobs deleted because no live attempt owns them (their record is gone, terminal, or at another attempt). */
  readonly orphans: readonly string[];
  readonly errors: readonly string[];
}

/** How old a job must be before the sweeper may call it an orphan (its Register may be mid-flight). */
export const ORPHAN_GRACE_SECONDS = 900;

/** How long past its deadline a submission may stay active before the sweeper steps in. */
export const SWEEP_GRACE_SECONDS = 900;

/**
 * The scheduled sweeper: no submission stays non-terminal past its deadline or without a live execution,
 * and no failure stays unreported. The list comes from an eventually consistent index, so each record is
 * read again, strongly, and failed only if it is still as that read found it.
 */
export async function sweepSubmissions(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'jobs' | 'admissions' | 'clock' | 'executions'>,
): Promise<SweepReport> {
  const active = await deps.store.listActive();
  const failed: number[] = [];
  const failureClasses: Partial<Record<FailureClass, number>> = {};
  const costs: AttemptCost[] = [];
  const errors: string[] = [];
  for (const listed of active) {
    try {
      const record = await deps.store.get(listed.submissionPk);
      if (!record) continue;
      const failure = isTerminal(record.status) ? unreportedFailure(record) : await stuckReason(deps, record);
      if (!failure) continue;
      const { status, failureClass, cost } = await failSubmission(deps, record, failure);
      if (status === 'failed') failed.push(record.submissionPk);
      if (failureClass) failureClasses[failureClass] = (failureClasses[failureClass] ?? 0) + 1;
      if (cost) costs.push(cost);
    } catch (error) {
      if (error instanceof RecordChangedError) continue; // it moved on since it was read: alive after all
      errors.push(`submission ${listed.submissionPk}: ${(error as Error).message}`);
    }
  }
  const orphans = await sweepOrphans(deps, errors);
  const activeByStatus: Partial<Record<SubmissionStatus, number>> = {};
  let workersRunning = 0;
  for (const record of active.filter((r) => !isTerminal(r.status))) {
    activeByStatus[record.status] = (activeByStatus[record.status] ?? 0) + 1;
    if (record.status === 'running') workersRunning += record.plan?.workers.length ?? 0;
  }
  return { examined: active.length, failed, failureClasses, costs, activeByStatus, workersRunning, orphans, errors };
}

/**
 * Jobs no live attempt owns would otherwise run, and hold a GPU node, to their own deadline: those whose
 * record is gone, terminal, or at another attempt, once past ORPHAN_GRACE_SECONDS, are deleted.
 */
async function sweepOrphans(deps: Pick<ControlPlane, 'store' | 'jobs' | 'clock'>, errors: string[]): Promise<string[]> {
  const orphans: string[] = [];
  const cutoff = deps.clock.now().getTime() - ORPHAN_GRACE_SECONDS * 1000;
  let jobs: Awaited<ReturnType<ControlPlane['jobs']['list']>>;
  try {
    jobs = await deps.jobs.list();
  } catch (error) {
    errors.push(`the jobs could not be listed for the orphan check: ${(error as Error).message}`);
    return orphans;
  }
  for (const job of jobs) {
    if (Date.parse(job.createdAt) > cutoff) continue;
    try {
      const record = await deps.store.get(job.submissionPk);
      if (record && record.attempt === job.attempt && !isTerminal(record.status)) continue;
      if ((await deps.jobs.delete(job.name)) === 'deleted') orphans.push(job.name);
    } catch (error) {
      errors.push(`job ${job.name}: ${(error as Error).message}`);
    }
  }
  return orphans;
}

/** A record failed earlier whose FAILED did not reach EvalAI: its reason, to send again. */
function unreportedFailure(record: SubmissionRecord): Failure | undefined {
  if (record.evalaiReported) return undefined;
  return {
    reason: record.history.at(-1)?.reason ?? record.outcome?.reason ?? 'The evaluation could not be completed.',
    failureClass: failureClassOf(record) ?? 'platform_error',
  };
}

async function stuckReason(
  deps: Pick<ControlPlane, 'clock' | 'executions'>,
  record: SubmissionRecord,
): Promise<Failure | undefined> {
  const overdue = deps.clock.now().getTime() - Date.parse(record.deadline);
  if (overdue > SWEEP_GRACE_SECONDS * 1000) {
    return {
      reason: 'Time limit exceeded: the evaluation did not finish in time and was stopped.',
      failureClass: 'time_limit',
    };
  }
  if (record.executionId && !(await deps.executions.isRunning(record.executionId))) {
    return {
      reason:
        'The evaluation was interrupted in the evaluation backend and could not be completed. Please resubmit or ask the hosts to resume it.',
      failureClass: 'platform_error',
    };
  }
  return undefined;
}
