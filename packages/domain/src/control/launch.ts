import { NotFoundError } from '../errors.js';
import { workerJobName } from '../names.js';
import { planRoutes } from '../routes/plan.js';
import { parseRouteFile } from '../routes/route-file.js';
import { artifactKeys } from './artifact-keys.js';
import { CANCELLED_ON_EVALAI, type ControlPlane, cancelledOnEvalAi, currentRecord, isoNow, trackOf } from './deps.js';
import type { PollState } from './payloads.js';
import type { SubmissionPlanRecord, SubmissionRef } from './records.js';

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
    plan = { ...plan, workers: plan.workers.map((w) => ({ ...w, jobName: jobName(submission, w.worker) })) };
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

export function jobName(submission: SubmissionRef, worker: number): string {
  return workerJobName({
    team: submission.teamName,
    track: submission.track,
    submissionId: submission.submissionPk,
    worker,
    attempt: submission.attempt,
  });
}

export function assignmentOf(plan: SubmissionPlanRecord | undefined, worker: number) {
  const assignment = plan?.workers.find((w) => w.worker === worker);
  if (!assignment) throw new NotFoundError(`worker ${worker} is not in the plan`);
  return assignment;
}

/** Launch one worker's Job. A job that already exists (a retried or duplicated launch) counts as launched. */
export async function launchWorker(
  deps: Pick<ControlPlane, 'store' | 'jobs' | 'clock'>,
  input: { submission: SubmissionRef; worker: number },
): Promise<{ worker: number; jobName: string; launch: 'created' | 'exists' }> {
  const { submission, worker } = input;
  const record = await currentRecord(deps.store, submission);
  const assignment = assignmentOf(record.plan, worker);
  // The record's deadline covers both the wait for a GPU node and the evaluation: Kubernetes counts both.
  const secondsLeft = Math.floor((Date.parse(record.deadline) - deps.clock.now().getTime()) / 1000);
  const launch = await deps.jobs.launch({
    name: assignment.jobName,
    submissionPk: submission.submissionPk,
    attempt: submission.attempt,
    worker,
    teamPk: submission.teamPk,
    teamName: submission.teamName,
    track: submission.track,
    image: submission.imageUri,
    routesKey: record.plan?.routesKey ?? '',
    routesSubset: assignment.routesSubset,
    repetitions: record.plan?.repetitions ?? 1,
    resume: submission.attempt > 1,
    activeDeadlineSeconds: Math.max(1, secondsLeft) + JOB_DEADLINE_SLACK_SECONDS,
    artifactPrefix: artifactKeys.worker(submission.submissionPk, worker),
  });
  return { worker, jobName: assignment.jobName, launch };
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
