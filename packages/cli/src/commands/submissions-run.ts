import {
  estimatedGpuHours,
  isTerminal,
  runHealth,
  type SubmissionRecord,
  type SubmissionStatus,
  submissionCost,
  systemClock,
} from '@pitwall/domain';
import type { CliIo } from '../io.js';
import {
  clip,
  costLine,
  failureOf,
  fittedTable,
  healthOf,
  LIST_WIDTH,
  placeOf,
  progressOf,
  reasonOf,
  statusOf,
  summary,
} from '../submission-views.js';
import { placesOf, recordOf, sourceOf } from './sources.js';

export interface ListOptions {
  readonly status?: SubmissionStatus;
  readonly team?: string;
  readonly phase?: number;
  readonly json?: boolean;
  readonly stage?: string;
}

/** `list`: every submission, its status or place in the queue, progress, failure and why, in 120 columns. */
export async function listCommand(io: CliIo, options: ListOptions): Promise<void> {
  const source = await sourceOf(options, io);
  const records = await source.read(() => source.store.listAll());
  const shown = records.filter(
    (r) =>
      (!options.status || r.status === options.status) &&
      (!options.team || r.teamName === options.team) &&
      (options.phase === undefined || r.phasePk === options.phase),
  );
  const places = await placesOf(source, records);
  const now = systemClock.now();
  if (options.json) {
    const costOf = (r: SubmissionRecord) => submissionCost(r, source.challenge.prices, now);
    io.out(
      JSON.stringify(
        shown.map((r) => summary(r, costOf(r), places.get(r.submissionPk))),
        null,
        2,
      ),
    );
    return;
  }
  if (shown.length === 0) {
    io.out('no submissions');
    return;
  }
  const rows: string[][] = [];
  for (const r of shown) {
    const activity =
      r.status === 'running' && r.plan
        ? await source.read(() =>
            source.store.workerActivity(r.submissionPk, r.plan?.workers.map((w) => w.worker) ?? []),
          )
        : [];
    rows.push([
      String(r.submissionPk),
      clip(r.teamName, 16),
      places.has(r.submissionPk) ? placeOf(places.get(r.submissionPk)) : statusOf(r),
      [progressOf(r), healthOf(runHealth(r, activity), now)].filter(Boolean).join(' '),
      failureOf(r),
      reasonOf(r),
    ]);
  }
  io.out(fittedTable(['pk', 'team', 'status', 'progress', 'failure', 'why (in full: show)'], rows, LIST_WIDTH));
}

/** `show`: one submission, its attempt, workers, timeline, cost, estimate and what EvalAI shows. */
export async function showCommand(io: CliIo, pk: number, options: { json?: boolean; stage?: string }): Promise<void> {
  const source = await sourceOf(options, io);
  const record = await recordOf(source, pk, options.stage);
  const workers = record.plan?.workers ?? [];
  const activity = await source.read(() =>
    source.store.workerActivity(
      pk,
      workers.map((w) => w.worker),
    ),
  );
  const evalaiStatus = await source.evalaiStatus(pk);
  // A place and an estimate need every record (a scan): only for a submission not yet ended.
  const ended = isTerminal(record.status);
  const all = ended ? [] : await source.read(() => source.store.listAll());
  const place = source.challenge.queue ? (await placesOf(source, all)).get(pk) : undefined;
  const estimate = ended ? undefined : estimatedGpuHours(record, all);
  const cost = submissionCost(record, source.challenge.prices, systemClock.now());
  if (options.json) {
    const estimated = { estimatedGpuHours: estimate ?? null };
    io.out(
      JSON.stringify(
        { ...summary(record, cost, place), ...estimated, evalaiStatus, record, workers: activity },
        null,
        2,
      ),
    );
    return;
  }
  const lines = [
    `submission ${pk}: ${record.teamName}, phase ${record.phasePk} (${record.track}), image ${record.imageUri}`,
    `status:   ${record.status} (attempt ${record.attempt})${isTerminal(record.status) ? '' : `, deadline ${record.deadline}`}`,
    `EvalAI:   ${evalaiStatus}`,
    ...(place ? [`queue:    ${placeOf(place)} (Pitwall's queue: no pods until it is admitted)`] : []),
    ...(record.progress ? [`progress: ${progressOf(record)} routes`] : []),
    ...(costLine(cost) ? [`cost:     ${costLine(cost)}`] : []),
    ...(estimate === undefined
      ? []
      : [
          `estimate: ${estimate.toFixed(2)} GPU-h still to go (its routes' km at the track's measured km per GPU-hour)`,
        ]),
    ...(failureOf(record) ? [`failure:  ${failureOf(record)}`] : []),
    ...(reasonOf(record) ? [`why:      ${reasonOf(record)}`] : []),
    ...workers.map((w) => {
      const seen = activity.find((a) => a.worker === w.worker);
      const heartbeat = seen ? `, last heartbeat ${seen.heartbeatAt}` : ', no heartbeat yet';
      const lost = (record.usage ?? [])
        .filter((u) => u.worker === w.worker)
        .reduce((sum, u) => sum + u.interruptions, 0);
      const interrupted = lost > 0 ? `, node lost ${lost} time${lost > 1 ? 's' : ''} (resumed)` : '';
      const moved = w.onDemandSince ? `, on demand since ${w.onDemandSince}` : '';
      return `worker ${w.worker}: routes ${w.routesSubset}, job ${w.jobName}${heartbeat}${interrupted}${moved}`;
    }),
    'timeline:',
    ...record.history.map(
      (change) =>
        `  ${change.at}  ${change.status} (attempt ${change.attempt})${change.reason ? `: ${change.reason}` : ''}`,
    ),
  ];
  io.out(lines.join('\n'));
}
