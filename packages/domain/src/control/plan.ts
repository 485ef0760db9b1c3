import { NotFoundError } from '../errors.js';
import { planRoutes } from '../routes/plan.js';
import { parseRouteFile } from '../routes/route-file.js';
import { trackOf } from './config.js';
import { jobName } from './launch-worker.js';
import { type ControlPlane, currentRecord, isoNow } from './ports.js';
import type { SubmissionRef } from './records.js';

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
