import {
  FAILURE_CLASSES,
  failureClassOf,
  type QueuePlace,
  type runHealth,
  type SubmissionCost,
  type SubmissionRecord,
} from '@pitwall/domain';
import Table from 'cli-table3';

/** Why the submission is where it is, in one line: the latest reason its history or outcome gives. */
export function reasonOf(record: SubmissionRecord): string {
  const reason = [...record.history].reverse().find((change) => change.reason)?.reason ?? record.outcome?.reason ?? '';
  return reason.split('\n')[0] ?? '';
}

/** `list` fits a terminal of this many columns; `show` has every field in full. */
export const LIST_WIDTH = 120;

export const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** Its status, and the attempt when it is not the first: `running (attempt 2)`. */
export const statusOf = (record: SubmissionRecord) =>
  record.attempt > 1 ? `${record.status} (attempt ${record.attempt})` : record.status;

/** How long ago its agents last wrote, and its time left: `3m ago, 40m left` (a hung run stops counting). */
export function healthOf(health: ReturnType<typeof runHealth>, now: Date): string {
  const ago = health.lastProgressAt ? `${duration(now.getTime() - Date.parse(health.lastProgressAt))} ago` : '';
  const left = health.deadline ? `${duration(Date.parse(health.deadline) - now.getTime())} left` : '';
  return [ago, left].filter(Boolean).join(', ');
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}`;
}

/** A table no wider than `width`: its last column (the reason) is cut to what is left. */
export function fittedTable(head: readonly string[], rows: readonly string[][], width: number): string {
  const widths = head.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const last = head.length - 1;
  // Each column takes its text, a space either side and one border; one more border closes the row.
  const others = widths.slice(0, last).reduce((sum, w) => sum + w + 3, 0) + 1;
  const room = Math.max((head[last] ?? '').length, width - others - 3);
  const table = new Table({ head: [...head], style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell, i) => (i === last ? clip(cell, room) : cell)));
  return table.toString();
}

export const progressOf = (record: SubmissionRecord) =>
  record.progress ? `${record.progress.done}/${record.progress.total}` : '';

/** The failure class and whose fault it is, in a word each: `agent_crashed (participant)`. */
export function failureOf(record: SubmissionRecord): string {
  const failureClass = failureClassOf(record);
  return failureClass ? `${failureClass} (${FAILURE_CLASSES[failureClass].fault})` : '';
}

/** Where a waiting submission stands in Pitwall's queue: `waiting #2, from 14:05`. */
export function placeOf(place: QueuePlace | undefined): string {
  if (!place) return '';
  const start = place.estimatedStartAt ? `, from ${place.estimatedStartAt.slice(11, 16)} UTC` : '';
  return `waiting #${place.position}${start}`;
}

/** What the evaluation's GPU time cost, at the stage's prices: `$1.23 (1.0 GPU-h, 1 lost node)`. */
export function costLine(cost: SubmissionCost): string {
  if (cost.gpuHours === 0) return '';
  const money = cost.usd === undefined ? 'unpriced' : `$${cost.usd.toFixed(2)}`;
  const lost = cost.interruptions > 0 ? `, ${cost.interruptions} lost node${cost.interruptions > 1 ? 's' : ''}` : '';
  return `${money} (${cost.gpuHours.toFixed(2)} GPU-h${lost})`;
}

export function summary(record: SubmissionRecord, cost: SubmissionCost, place?: QueuePlace) {
  const failureClass = failureClassOf(record);
  return {
    pk: record.submissionPk,
    team: record.teamName,
    phase: record.phasePk,
    track: record.track,
    status: record.status,
    attempt: record.attempt,
    progress: record.progress ?? null,
    updatedAt: record.updatedAt,
    reason: reasonOf(record),
    failureClass: failureClass ?? null,
    fault: failureClass ? FAILURE_CLASSES[failureClass].fault : null,
    queue: place ?? null,
    cost: { gpuHours: cost.gpuHours, usd: cost.usd ?? null, interruptions: cost.interruptions },
  };
}
