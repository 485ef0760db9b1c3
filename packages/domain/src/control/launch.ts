import { NotFoundError } from '../errors.js';
import { workerJobName } from '../names.js';
import { planRoutes } from '../routes/plan.js';
import { parseRouteFile } from '../routes/route-file.js';
import { artifactKeys } from './artifact-keys.js';
import { CANCELLED_ON_EVALAI, type ControlPlane, cancelledOnEvalAi, currentRecord, isoNow, trackOf } from './deps.js';
import type { PollState } from './payloads.js';
import type { WorkerJobSpec } from './ports.js';
import type { SubmissionPlanRecord, SubmissionRecord, SubmissionRef, WorkerAssignmentRecord } from './records.js';

/** Kubernetes gets a little longer than the control plane's deadline, so that Observe reports it first. */
const JOB_DEADLINE_SLACK_SECONDS = 300;

/**
 * Plan: split the track's routes over its workers and store the split. A later attempt keeps the
 * stored split (same workers, same routes) so that each worker resumes its own checkpoint.
 */
export async function planSubmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'clock'>,
  submission: SubmissionRef,
): Promise<{ workerCount: number; workers: { worker: number }[] }> {
  const record = await currentRecord(deps.store, submission);
  const track = trackOf(deps.config, submission.phasePk);
  if (!track) throw new NotFoundError(`phase ${submission.phasePk} is not configured`);
  let plan = record.plan;
  if (plan) {
    // Every attempt starts on its track's capacity: a move to on demand was the earlier attempt's.
    const workers = plan.workers.map(({ onDemandSince: _moved, ...w }) => ({
      ...w,
      jobName: jobName(submission, w.worker),
    }));
    plan = { ...plan, workers };
  } else {
    const xml = await deps.artifacts.get(track.routesKey);
    if (xml === undefined) throw new NotFoundError(`the route file ${track.routesKey} is missing`);
    const routes = planRoutes(parseRouteFile(xml), { workers: track.workers, strategy: track.strategy });
    plan = {
      strategy: routes.strategy,
      workerCount: routes.workerCount,
      repetitions: track.repetitions,
      expectedRoutes: routes.routeCount * track.repetitions,
      routesKey: track.routesKey,
      metres: routes.totalLength * track.repetitions,
      workers: routes.workers.map((w) => ({
        worker: w.worker,
        routeIds: w.routeIds,
        routesSubset: w.routesSubset,
        jobName: jobName(submission, w.worker),
      })),
    };
  }
  await deps.store.patch(submission.submissionPk, submission.attempt, { plan }, isoNow(deps.clock));
  return { workerCount: plan.workerCount, workers: plan.workers.map((w) => ({ worker: w.worker })) };
}

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

/**
 * MarkQueued: tell EvalAI the jobs are queued (PATCH, once) and record it; then the poll loop starts. A
 * participant who cancelled meanwhile ends the attempt here, with nothing written to EvalAI.
 */
export async function markQueued(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'clock'>,
  submission: SubmissionRef,
): Promise<PollState> {
  const record = await currentRecord(deps.store, submission);
  const polling: PollState = { phase: 'running', turn: 0, waitSeconds: deps.config.poll.initialSeconds };
  if (record.status === 'queued' || record.status === 'running') return polling; // a retry after the write
  const jobName = assignmentOf(record.plan, 0).jobName;
  if (await cancelledOnEvalAi(deps.evalai, submission.submissionPk)) {
    return { phase: 'cancelled', turn: 0, waitSeconds: 0, reason: CANCELLED_ON_EVALAI };
  }
  await deps.evalai.patchStatus(submission.challengePk, {
    submissionPk: submission.submissionPk,
    status: 'queued',
    jobName,
  });
  await deps.store.transition(submission.submissionPk, submission.attempt, 'queued', { at: isoNow(deps.clock) });
  return polling;
}
