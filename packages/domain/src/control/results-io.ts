import { createHash } from 'node:crypto';
import { mergeWorkerCheckpoints, type WorkerMergeReport } from '../results/merge.js';
import { artifactKeys } from './artifact-keys.js';
import type { ArtifactStore } from './ports.js';
import type { SubmissionPlanRecord } from './records.js';

/** Reads every worker's checkpoint from the artifact store and merges them; bad files are reported per worker. */
export async function mergeSubmissionResults(
  artifacts: ArtifactStore,
  submissionPk: number,
  plan: SubmissionPlanRecord,
): Promise<WorkerMergeReport> {
  const files = await Promise.all(
    plan.workers.map(async (w) => ({
      worker: String(w.worker),
      raw: await artifacts.get(artifactKeys.checkpoint(submissionPk, w.worker)),
      assignment: { routeIds: w.routeIds, repetitions: plan.repetitions },
    })),
  );
  return mergeWorkerCheckpoints(files, { expectedRoutes: plan.expectedRoutes });
}

export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
