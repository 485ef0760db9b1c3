import { isTerminal } from '../lifecycle.js';
import { attemptCost } from './cost.js';
import { attemptStartedAt, type SubmissionRecord } from './records.js';

/** How many recent runs of a track the measured rate averages. */
const RECENT_RUNS = 20;

/** Kilometres the current attempt still has to drive: its plan's, less the share of routes already done. */
export function kilometresLeft(record: Pick<SubmissionRecord, 'plan' | 'progress'>): number {
  const km = (record.plan?.metres ?? 0) / 1000;
  const { done = 0, total = 0 } = record.progress ?? {};
  return total > 0 ? km * Math.max(0, 1 - done / total) : km;
}

/**
 * The GPU-hours and kilometres of an ended attempt: the GPU time its pods held, where Observe saw them;
 * otherwise every worker from the attempt's admission (or its first pod running) to its end.
 */
function measuredRun(record: SubmissionRecord): { km: number; gpuHours: number } | undefined {
  if (!isTerminal(record.status) || !record.plan?.metres) return undefined;
  const { done = 0, total = 0 } = record.progress ?? {};
  const km = (record.plan.metres / 1000) * (total > 0 ? Math.min(1, done / total) : 0);
  const gpuHours = (record.usage ?? []).some((u) => u.attempt === record.attempt)
    ? attemptCost(record, {}, new Date(record.updatedAt)).gpuHours
    : heldGpuHours(record, record.plan.workerCount);
  return km > 0 && gpuHours !== undefined && gpuHours > 0 ? { km, gpuHours } : undefined;
}

function heldGpuHours(record: SubmissionRecord, workers: number): number | undefined {
  const from = record.admission?.admittedAt ?? attemptStartedAt(record);
  if (!from) return undefined;
  return (workers * (Date.parse(record.updatedAt) - Date.parse(from))) / 3_600_000;
}

/**
 * The kilometres a GPU drives in an hour on a track, measured over its recent ended runs (the kilometres of
 * the routes they completed over the GPU-hours they held, node start-up included); none before a run has.
 */
export function kilometresPerGpuHour(records: readonly SubmissionRecord[], track: string): number | undefined {
  const runs = records
    .filter((r) => r.track === track)
    .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt))
    .flatMap((r) => measuredRun(r) ?? [])
    .slice(0, RECENT_RUNS);
  if (runs.length === 0) return undefined;
  const sum = (key: 'km' | 'gpuHours') => runs.reduce((total, run) => total + run[key], 0);
  return sum('km') / sum('gpuHours');
}

/**
 * The GPU-hours a submission is expected to take, before or while it runs: its plan's kilometres left over
 * the track's measured kilometres per GPU-hour; none before the plan or a measured run.
 */
export function estimatedGpuHours(
  record: Pick<SubmissionRecord, 'plan' | 'progress' | 'track'>,
  records: readonly SubmissionRecord[],
): number | undefined {
  const perGpuHour = kilometresPerGpuHour(records, record.track);
  if (!record.plan?.metres || perGpuHour === undefined) return undefined;
  return kilometresLeft(record) / perGpuHour;
}
