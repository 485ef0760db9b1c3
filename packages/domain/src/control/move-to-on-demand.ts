import { capacityAfter } from '../cost/spot.js';
import { trackOf } from './config.js';
import { interruptionsOf, usageEndedAt } from './cost.js';
import { jobName, workerJobSpec } from './launch-worker.js';
import type { ControlPlane, JobObservation } from './ports.js';
import type { SubmissionPlanRecord, SubmissionRecord, SubmissionRef, WorkerUsage } from './records.js';

/**
 * Spot first, on demand once spot has cost a worker too much: a worker of a spot-first track that has lost
 * more nodes than the track allows (or one near its deadline) gets a Job of its own on on-demand capacity,
 * which restores its uploaded checkpoint and goes on with the next route, and its spot Job is deleted.
 *
 * The move is written first (the plan names the new Job, the old Job's pods end now in the usage), then the
 * old Job is deleted and, once it is gone, the new one launched, both idempotent: an Observe stopped in
 * between, or one that finds the old Job still ending, finds the moved worker's Job missing and goes on. Returns the plan and the Jobs as they now stand.
 */
export async function moveToOnDemand(
  deps: Pick<ControlPlane, 'config' | 'store' | 'jobs' | 'clock'>,
  record: SubmissionRecord & { readonly plan: SubmissionPlanRecord },
  submission: SubmissionRef,
  jobs: readonly JobObservation[],
  usage: readonly WorkerUsage[],
): Promise<{ plan: SubmissionPlanRecord; jobs: readonly JobObservation[] }> {
  const track = trackOf(deps.config, submission.phasePk);
  const now = deps.clock.now();
  const secondsLeft = (Date.parse(record.deadline) - now.getTime()) / 1000;
  const due = record.plan.workers.filter((w, i) => {
    const state = jobs[i]?.state;
    if (w.onDemandSince || track?.capacity !== 'spot-first' || (state !== 'pending' && state !== 'running')) {
      return false;
    }
    return capacityAfter(track, interruptionsOf(usage, submission.attempt, w.worker), secondsLeft) === 'on-demand';
  });
  let plan = record.plan;
  if (due.length > 0) {
    const at = now.toISOString();
    const moving = new Set(due.map((w) => w.worker));
    plan = {
      ...plan,
      workers: plan.workers.map((w) =>
        moving.has(w.worker) ? { ...w, jobName: jobName(submission, w.worker, true), onDemandSince: at } : w,
      ),
    };
    const ended = due.reduce((all, w) => usageEndedAt(all, w.jobName, at), usage);
    await deps.store.patch(submission.submissionPk, submission.attempt, { plan, usage: ended }, at);
  }
  const moved = { ...record, plan };
  const launched = await Promise.all(
    plan.workers.map(async (w, i) => {
      const seen = jobs[i] as JobObservation;
      const launch = w.onDemandSince && (seen.name !== w.jobName || seen.state === 'missing');
      if (!launch) return seen;
      // The spot Job goes first, and the new one starts only once it is gone: its pod ends in its grace,
      // logcopy flushing last, and a pod that restored before that flush would drive its last route again.
      // Kubernetes deletes in the foreground (the Job stays until its pods are gone): a later Observe launches.
      const spot = jobName(submission, w.worker);
      const pending = { name: w.jobName, state: 'pending', containers: [] } satisfies JobObservation;
      if ((await deps.jobs.delete(spot)) === 'deleted' && (await deps.jobs.observe(spot)).state !== 'missing') {
        return pending;
      }
      await deps.jobs.launch(workerJobSpec(deps, moved, submission, w));
      return pending;
    }),
  );
  return { plan, jobs: launched };
}
