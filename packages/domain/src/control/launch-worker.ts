import { NotFoundError } from '../errors.js';
import { workerJobName } from '../names.js';
import { artifactKeys } from './artifact-keys.js';
import { trackOf } from './config.js';
import { type ControlPlane, currentRecord, type WorkerJobSpec } from './ports.js';
import type { SubmissionPlanRecord, SubmissionRecord, SubmissionRef, WorkerAssignmentRecord } from './records.js';

/** Kubernetes gets a little longer than the control plane's deadline, so that Observe reports it first. */
const JOB_DEADLINE_SLACK_SECONDS = 300;

/** A worker's Job name in the attempt: its first, or the one it moved to on-demand capacity under. */
export function jobName(submission: SubmissionRef, worker: number, onDemand = false): string {
  return workerJobName({
    team: submission.teamName,
    track: submission.track,
    submissionId: submission.submissionPk,
    worker,
    attempt: submission.attempt,
    onDemand,
  });
}

export function assignmentOf(plan: SubmissionPlanRecord | undefined, worker: number) {
  const assignment = plan?.workers.find((w) => w.worker === worker);
  if (!assignment) throw new NotFoundError(`worker ${worker} is not in the plan`);
  return assignment;
}

/** Launch one worker's Job. A job that already exists (a retried or duplicated launch) counts as launched. */
export async function launchWorker(
  deps: Pick<ControlPlane, 'config' | 'store' | 'jobs' | 'clock'>,
  input: { submission: SubmissionRef; worker: number },
): Promise<{ worker: number; jobName: string; launch: 'created' | 'exists' }> {
  const { submission, worker } = input;
  const record = await currentRecord(deps.store, submission);
  const assignment = assignmentOf(record.plan, worker);
  const launch = await deps.jobs.launch(workerJobSpec(deps, record, submission, assignment));
  return { worker, jobName: assignment.jobName, launch };
}

/**
 * One worker's Job as the plan has it: on its track's capacity, or on demand once it moved off spot (resuming
 * then from its checkpoint, as a later attempt does).
 */
export function workerJobSpec(
  deps: Pick<ControlPlane, 'config' | 'clock'>,
  record: SubmissionRecord,
  submission: SubmissionRef,
  assignment: WorkerAssignmentRecord,
): WorkerJobSpec {
  // The record's deadline covers both the wait for a GPU node and the evaluation: Kubernetes counts both.
  const secondsLeft = Math.floor((Date.parse(record.deadline) - deps.clock.now().getTime()) / 1000);
  const moved = assignment.onDemandSince !== undefined;
  return {
    name: assignment.jobName,
    submissionPk: submission.submissionPk,
    attempt: submission.attempt,
    worker: assignment.worker,
    teamPk: submission.teamPk,
    teamName: submission.teamName,
    track: submission.track,
    image: submission.imageUri,
    routesKey: record.plan?.routesKey ?? '',
    routesSubset: assignment.routesSubset,
    repetitions: record.plan?.repetitions ?? 1,
    resume: submission.attempt > 1 || moved,
    capacity: moved ? 'on-demand' : (trackOf(deps.config, submission.phasePk)?.capacity ?? 'on-demand'),
    activeDeadlineSeconds: Math.max(1, secondsLeft) + JOB_DEADLINE_SLACK_SECONDS,
    artifactPrefix: artifactKeys.worker(submission.submissionPk, assignment.worker),
  };
}
