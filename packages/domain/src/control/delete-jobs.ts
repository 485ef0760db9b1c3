import { jobName } from './launch-worker.js';
import type { SubmissionRef } from './payloads.js';
import { type ControlPlane, isoNow } from './ports.js';

/**
 * Cleanup: delete every worker's job (and its pods) of this execution's attempt, never another's: a late
 * cleanup of attempt N must leave attempt N+1 running. Jobs already gone are fine. Then the attempt's slots
 * in Pitwall's queue go back, its GPU time counted to its team.
 */
export async function deleteJobs(
  deps: Pick<ControlPlane, 'config' | 'store' | 'jobs' | 'admissions' | 'clock'>,
  submission: SubmissionRef,
): Promise<{ deleted: number }> {
  const record = await deps.store.get(submission.submissionPk);
  // Every attempt has the same workers (the split is kept), and job names carry the attempt. A worker moved to
  // on demand has a second name: the plan says which did, unless it is a later attempt's plan by now.
  const ours = record?.attempt === submission.attempt;
  const names = (record?.plan?.workers ?? []).flatMap((w) => [
    jobName(submission, w.worker),
    ...(!ours || w.onDemandSince ? [jobName(submission, w.worker, true)] : []),
  ]);
  const results = await Promise.all(names.map((name) => deps.jobs.delete(name)));
  if (deps.config.queue) {
    const at = isoNow(deps.clock);
    await deps.admissions.release(submission.submissionPk, submission.attempt, at, deps.config.queue.halfLifeSeconds);
  }
  return { deleted: results.filter((r) => r === 'deleted').length };
}
