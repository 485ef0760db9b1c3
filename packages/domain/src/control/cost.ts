import { costOf, type PodUsage, type PriceTable } from '../cost/prices.js';
import { isTerminal } from '../lifecycle.js';
import type { JobObservation } from './ports.js';
import type { SubmissionRecord, WorkerUsage } from './records.js';

/**
 * The record's usage with this attempt's workers' Jobs as just observed. A Job that shows no pods (gone, or
 * not started) keeps what was seen of it before. Returns undefined when nothing changed (no write).
 */
export function usageAfter(
  record: Pick<SubmissionRecord, 'usage' | 'attempt'>,
  observed: readonly { readonly worker: number; readonly job: JobObservation }[],
): readonly WorkerUsage[] | undefined {
  const usage = [...(record.usage ?? [])];
  let changed = false;
  for (const { worker, job } of observed) {
    if (!job.pods || job.pods.length === 0) continue;
    const seen: WorkerUsage = {
      attempt: record.attempt,
      worker,
      job: job.name,
      interruptions: job.interruptions ?? 0,
      pods: job.pods,
    };
    const at = usage.findIndex((u) => u.attempt === record.attempt && u.worker === worker && u.job === job.name);
    if (at >= 0 && JSON.stringify(usage[at]) === JSON.stringify(seen)) continue;
    if (at >= 0) usage[at] = seen;
    else usage.push(seen);
    changed = true;
  }
  return changed ? usage : undefined;
}

/** The nodes a worker has lost in the attempt, over all its Jobs. */
export function interruptionsOf(usage: readonly WorkerUsage[] | undefined, attempt: number, worker: number): number {
  return (usage ?? [])
    .filter((u) => u.attempt === attempt && u.worker === worker)
    .reduce((sum, u) => sum + u.interruptions, 0);
}

/**
 * The usage with a Job's pods that still run ended now: its Job is being deleted (a move to on demand), and
 * no Observe will see those pods end.
 */
export function usageEndedAt(usage: readonly WorkerUsage[], job: string, at: string): readonly WorkerUsage[] {
  return usage.map((u) =>
    u.job === job ? { ...u, pods: u.pods.map((pod) => (pod.endedAt ? pod : { ...pod, endedAt: at })) } : u,
  );
}

export interface SubmissionCost {
  readonly gpuHours: number;
  /** At the stage's prices; none when a pod ran on an instance type the table does not price. */
  readonly usd?: number;
  readonly interruptions: number;
}

/**
 * What a submission's evaluation has cost so far, every attempt's workers counted: each pod from its start to
 * its end (to now while it runs, to its attempt's end where the pod's own end was not seen).
 */
export function submissionCost(record: SubmissionRecord, prices: PriceTable, now: Date): SubmissionCost {
  const endOf = (attempt: number) => {
    const end = record.history.find((c) => c.attempt === attempt && isTerminal(c.status));
    return end ? Date.parse(end.at) : now.getTime();
  };
  const pods: PodUsage[] = (record.usage ?? []).flatMap((w) =>
    w.pods.map((pod) => ({
      gpuSeconds: Math.max(0, (Date.parse(pod.endedAt ?? '') || endOf(w.attempt)) - Date.parse(pod.startedAt)) / 1000,
      instanceType: pod.instanceType ?? 'unknown',
      capacityType: pod.capacityType ?? 'on-demand',
    })),
  );
  const usd = costOf(pods, prices);
  return {
    gpuHours: pods.reduce((sum, pod) => sum + pod.gpuSeconds, 0) / 3600,
    ...(usd === undefined ? {} : { usd }),
    interruptions: (record.usage ?? []).reduce((sum, w) => sum + w.interruptions, 0),
  };
}

/** What one attempt of a submission cost, once it ended: the figure a phase's cost metric adds up. */
export interface AttemptCost {
  readonly phasePk: number;
  readonly track: string;
  readonly gpuHours: number;
  /** At the stage's prices; none when a pod ran on an instance type the table does not price. */
  readonly usd?: number;
}

/** The current attempt's cost (its workers' pods alone: an earlier attempt was counted when it ended). */
export function attemptCost(record: SubmissionRecord, prices: PriceTable, now: Date): AttemptCost {
  const usage = (record.usage ?? []).filter((u) => u.attempt === record.attempt);
  const { gpuHours, usd } = submissionCost({ ...record, usage }, prices, now);
  return { phasePk: record.phasePk, track: record.track, gpuHours, ...(usd === undefined ? {} : { usd }) };
}

export interface CostLine {
  readonly key: string;
  readonly submissions: number;
  readonly gpuHours: number;
  /** Of the submissions whose every pod is priced. */
  readonly usd: number;
  /** Submissions left out of `usd` for a pod on an instance type the table does not price. */
  readonly unpriced: number;
}

/** Costs summed by team and by phase, over the submissions registered in [from, to). */
export function costReport(
  records: readonly SubmissionRecord[],
  prices: PriceTable,
  now: Date,
  period: { readonly from?: Date; readonly to?: Date } = {},
): { readonly byTeam: readonly CostLine[]; readonly byPhase: readonly CostLine[]; readonly total: CostLine } {
  const inPeriod = records.filter((r) => {
    const at = Date.parse(r.registeredAt);
    return (!period.from || at >= period.from.getTime()) && (!period.to || at < period.to.getTime());
  });
  const sum = (key: string, of: readonly SubmissionRecord[]): CostLine => {
    const costs = of.map((r) => submissionCost(r, prices, now));
    return {
      key,
      submissions: of.length,
      gpuHours: costs.reduce((total, c) => total + c.gpuHours, 0),
      usd: costs.reduce((total, c) => total + (c.usd ?? 0), 0),
      unpriced: costs.filter((c) => c.usd === undefined).length,
    };
  };
  const group = (keyOf: (r: SubmissionRecord) => string) =>
    [...new Set(inPeriod.map(keyOf))].sort().map((key) =>
      sum(
        key,
        inPeriod.filter((r) => keyOf(r) === key),
      ),
    );
  return {
    byTeam: group((r) => `${r.teamName} (${r.teamPk})`),
    byPhase: group((r) => `${r.phasePk} ${r.track}`),
    total: sum('total', inPeriod),
  };
}
