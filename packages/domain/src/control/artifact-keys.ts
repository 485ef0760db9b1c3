/**
 * Where a submission's files live in the artifact store (an S3 bucket in production):
 *
 *   submissions/<pk>/workers/<worker>/checkpoint.json   the evaluator's checkpoint (uploaded by logcopy)
 *   submissions/<pk>/workers/<worker>/status/<file>     the containers' status files
 *   submissions/<pk>/workers/<worker>/logs/<container>-<worker>.log  the simulator and agent logs
 *   submissions/<pk>/control/attempt-<n>/cancel          written by the control plane; logcopy obeys it
 *   submissions/<pk>/merged/results.json                 the merged checkpoint (merge_statistics.py format)
 *   submissions/<pk>/evalai/{result.json,stdout.txt,stderr.txt,metadata.json}
 *
 * Attempts of the same submission share the worker folders: a resumed worker continues from its checkpoint.
 */
export const artifactKeys = {
  submission: (pk: number) => `submissions/${pk}/`,
  worker: (pk: number, worker: number) => `submissions/${pk}/workers/${worker}/`,
  checkpoint: (pk: number, worker: number) => `submissions/${pk}/workers/${worker}/checkpoint.json`,
  /**
   * A container's log, as the pod scripts name it in LOG_DIR (`agent-<worker>.log`) and logcopy uploads it;
   * logcopy's own it writes from memory.
   */
  log: (pk: number, worker: number, container: 'agent' | 'simulator' | 'logcopy') =>
    `submissions/${pk}/workers/${worker}/logs/${container}-${worker}.log`,
  /** Per attempt: a resumed attempt must not obey the stop of the one before it. */
  cancel: (pk: number, attempt: number) => `submissions/${pk}/control/attempt-${attempt}/cancel`,
  merged: (pk: number) => `submissions/${pk}/merged/results.json`,
  evalai: (pk: number, file: 'result.json' | 'stdout.txt' | 'stderr.txt' | 'metadata.json') =>
    `submissions/${pk}/evalai/${file}`,
} as const;
