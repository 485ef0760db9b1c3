import { CheckpointRejectedError, MergeError } from '../errors.js';
import {
  type Checkpoint,
  type EntryStatus,
  INFRACTION_KEYS,
  type InfractionKey,
  offRoadKilometres,
  parseCheckpoint,
  parseRouteId,
  type RouteRecord,
  SCORE_KEYS,
  type ScoreKey,
  type WorkerAssignment,
} from './checkpoint.js';
import { PyFloat, type PyJson, pyFloatRepr, pyJsonDumps, pyRound } from './python-compat.js';

/**
 * Merging partial checkpoints exactly as CARLA's scripts/merge_statistics.py and
 * StatisticsManager.compute_global_statistics (leaderboard-2.0) do: same order of operations,
 * same rounding, same text. Comments name the Python behaviour being matched where it is surprising.
 */

export interface GlobalRecord {
  readonly index: -1;
  readonly route_id: -1;
  readonly status: string;
  readonly infractions: Readonly<Record<InfractionKey, number>>;
  readonly scores_mean: Readonly<Record<ScoreKey, number>>;
  readonly scores_std_dev: Readonly<Record<ScoreKey, number>>;
  readonly meta: {
    readonly total_length: number;
    readonly duration_game: number;
    readonly duration_system: number;
    readonly exceptions: readonly (readonly [string, number, string])[];
  };
}

export interface MergedCheckpoint {
  readonly _checkpoint: {
    readonly global_record: GlobalRecord | undefined;
    readonly progress: readonly [number, number];
    readonly records: readonly RouteRecord[];
  };
  readonly entry_status: EntryStatus;
  readonly eligible: boolean;
  readonly sensors: readonly string[];
  readonly values: readonly string[];
  readonly labels: readonly string[];
}

/** The statistics labels the evaluator writes, in the order of `values`. */
export const CARLA_LABELS = [
  'Avg. driving score',
  'Avg. route completion',
  'Avg. infraction penalty',
  'Collisions with pedestrians',
  'Collisions with vehicles',
  'Collisions with layout',
  'Red lights infractions',
  'Stop sign infractions',
  'Off-road infractions',
  'Route deviations',
  'Route timeouts',
  'Agent blocked',
  'Yield emergency vehicles infractions',
  'Scenario timeouts',
  'Min speed infractions',
] as const;

/** The global statistic behind each entry of `values`/`labels`. */
export const CARLA_VALUE_SOURCES = [
  'score_composed',
  'score_route',
  'score_penalty',
  'collisions_pedestrian',
  'collisions_vehicle',
  'collisions_layout',
  'red_light',
  'stop_infraction',
  'outside_route_lanes',
  'route_dev',
  'route_timeout',
  'vehicle_blocked',
  'yield_emergency_vehicle_infractions',
  'scenario_timeouts',
  'min_speed_infractions',
] as const satisfies readonly (ScoreKey | InfractionKey)[];
export type CarlaStatistic = (typeof CARLA_VALUE_SOURCES)[number];

/** Reads one global statistic: a score mean or an infraction rate. */
export function globalStatistic(record: GlobalRecord, statistic: CarlaStatistic): number {
  return (SCORE_KEYS as readonly string[]).includes(statistic)
    ? record.scores_mean[statistic as ScoreKey]
    : record.infractions[statistic as InfractionKey];
}

const ELIGIBLE: Readonly<Record<EntryStatus, boolean>> = {
  Started: false,
  Finished: true,
  Rejected: false,
  Crashed: false,
  Invalid: false,
};

export interface MergeOptions {
  /**
   * Routes × repetitions the plan expects. The Python script scores whatever files it is given, so a
   * missing file silently drops its routes; with this set, global statistics wait for all of them.
   */
  readonly expectedRoutes?: number;
}

/** Merges checkpoints (undefined = empty file, skipped) with merge_statistics.py's semantics. */
export function mergeCheckpoints(
  checkpoints: readonly (Checkpoint | undefined)[],
  options: MergeOptions = {},
): MergedCheckpoint {
  let sensors: readonly string[] = [];
  const routeIds: string[] = [];
  let totalRoutes = 0;
  let totalProgress = 0;
  const present = checkpoints.filter((c): c is Checkpoint => c !== undefined);
  for (const checkpoint of present) {
    routeIds.push(...checkpoint._checkpoint.records.map((r) => r.route_id));
    totalRoutes += checkpoint._checkpoint.records.length;
    totalProgress += checkpoint._checkpoint.progress[1];
    if (checkpoint.sensors.length > 0) {
      if (sensors.length === 0) sensors = checkpoint.sensors;
      else if (!sameList(checkpoint.sensors, sensors)) {
        throw new MergeError('Stopping. Found two files with different sensor configurations');
      }
    }
  }
  routeIds.sort(compareRouteIds);
  const withGlobal =
    totalProgress !== 0 &&
    totalRoutes === totalProgress &&
    (options.expectedRoutes === undefined || totalProgress === options.expectedRoutes);
  if (withGlobal) {
    checkDuplicates(routeIds);
    checkMissingData(routeIds);
  }
  // Records are taken file by file, then stably sorted by (route, repetition) and re-indexed.
  const records = present
    .flatMap((c) => c._checkpoint.records)
    .map(withRecordDefaults)
    .sort((a, b) => compareRouteIds(a.route_id, b.route_id))
    .map((record, index) => ({ ...record, index }));
  const progress = [totalRoutes, totalProgress] as const;
  if (!withGlobal) {
    return {
      _checkpoint: { global_record: undefined, progress, records },
      entry_status: 'Started',
      eligible: false,
      sensors,
      values: [],
      labels: [],
    };
  }
  const globalRecord = computeGlobalStatistics(records, totalProgress);
  let entryStatus = entryStatusOf(records);
  // validate_and_write_statistics(sensors_initialized=True, crashed=False): the other checks cannot
  // fail here (values are set, progress matches by construction).
  if (sensors.length === 0 || records.some((r) => r.status === 'Started')) entryStatus = 'Invalid';
  return {
    _checkpoint: { global_record: globalRecord, progress, records },
    entry_status: entryStatus,
    eligible: ELIGIBLE[entryStatus],
    sensors,
    values: CARLA_VALUE_SOURCES.map((source) => pyFloatRepr(globalStatistic(globalRecord, source))),
    labels: [...CARLA_LABELS],
  };
}

function computeGlobalStatistics(records: readonly RouteRecord[], totalRoutes: number): GlobalRecord {
  const sums = { score_composed: 0, score_route: 0, score_penalty: 0 };
  const meta = { total_length: 0, duration_game: 0, duration_system: 0 };
  const exceptions: [string, number, string][] = [];
  let status = 'Perfect';
  for (const record of records) {
    // Python adds score / total for each record, not the sum divided once.
    sums.score_route += record.scores.score_route / totalRoutes;
    sums.score_penalty += record.scores.score_penalty / totalRoutes;
    sums.score_composed += record.scores.score_composed / totalRoutes;
    meta.total_length += record.meta.route_length;
    meta.duration_game += record.meta.duration_game;
    meta.duration_system += record.meta.duration_system;
    const result = record.status.includes('Failed') ? 'Failed' : record.status;
    if (result === 'Failed') {
      exceptions.push([record.route_id, record.index, record.status]);
      status = result;
    } else if (status === 'Perfect' && result !== 'Perfect') {
      status = result;
    }
  }
  const mean = {
    score_composed: pyRound(sums.score_composed, 6),
    score_route: pyRound(sums.score_route, 6),
    score_penalty: pyRound(sums.score_penalty, 6),
  };
  const stdDev = { score_composed: 0, score_route: 0, score_penalty: 0 };
  if (totalRoutes !== 1) {
    for (const record of records) {
      for (const key of SCORE_KEYS) {
        const diff = record.scores[key] - mean[key];
        stdDev[key] += diff * diff;
      }
    }
    for (const key of SCORE_KEYS) stdDev[key] = pyRound(Math.sqrt(stdDev[key] / (totalRoutes - 1)), 3);
  }
  const infractions = Object.fromEntries(INFRACTION_KEYS.map((key) => [key, 0])) as Record<InfractionKey, number>;
  let kmDriven = 0;
  for (const record of records) {
    kmDriven += ((record.meta.route_length / 1000) * record.scores.score_route) / 100;
    for (const key of INFRACTION_KEYS) {
      infractions[key] += key === 'outside_route_lanes' ? offRoadKilometres(record) : record.infractions[key].length;
    }
  }
  kmDriven = Math.max(kmDriven, 0.001);
  for (const key of INFRACTION_KEYS) {
    // Off-road is a distance (km), not a count: it is not divided by the distance driven.
    const perKm = key === 'outside_route_lanes' ? infractions[key] : infractions[key] / kmDriven;
    infractions[key] = pyRound(perKm, 3);
  }
  return {
    index: -1,
    route_id: -1,
    status,
    infractions,
    scores_mean: mean,
    scores_std_dev: stdDev,
    meta: { ...meta, exceptions },
  };
}

/** The last matching record decides, as in the evaluator's loop (a later sensor failure overrides a crash). */
function entryStatusOf(records: readonly RouteRecord[]): EntryStatus {
  let status: EntryStatus = 'Finished';
  for (const record of records) {
    if (record.status.includes('Simulation crashed')) status = 'Crashed';
    else if (record.status.includes("Agent's sensors were invalid")) status = 'Rejected';
  }
  return status;
}

/** RouteRecord() defaults overlaid with the file's keys, as to_route_record does. */
function withRecordDefaults(record: RouteRecord): RouteRecord {
  return { scenario_name: null, weather_id: null, save_name: null, ...record };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function compareRouteIds(a: string, b: string): number {
  const left = parseRouteId(a);
  const right = parseRouteId(b);
  return left.route - right.route || left.repetition - right.repetition;
}

function checkDuplicates(routeIds: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of routeIds) {
    if (seen.has(id)) throw new MergeError(`Stopping. Found that the route ${id} has more than one record`);
    seen.add(id);
  }
}

/** merge_statistics.py's check: ids read as route * repetitions + rep must not jump by more than one. */
function checkMissingData(routeIds: readonly string[]): void {
  let repetitions = 1;
  let previousRep = 0;
  let previousTotal = 0;
  let previousId = '';
  for (const id of routeIds) {
    const { route, repetition } = parseRouteId(id);
    if (repetition < previousRep) repetitions = previousRep + 1;
    const total = route * repetitions + repetition;
    if (total - previousTotal > 1) {
      throw new MergeError(`Stopping. Missing some data as the ids jumped from ${previousId} to ${id}`);
    }
    previousRep = repetition;
    previousTotal = total;
    previousId = id;
  }
}

/** The merged checkpoint as merge_statistics.py writes it: json.dump(indent=4, sort_keys=True). */
export function formatMergedCheckpoint(merged: MergedCheckpoint): string {
  return pyJsonDumps(toPythonJson(merged));
}

function toPythonJson(merged: MergedCheckpoint): PyJson {
  const { global_record: global, progress, records } = merged._checkpoint;
  const floats = (object: Readonly<Record<string, number>>): PyJson =>
    Object.fromEntries(Object.entries(object).map(([k, v]) => [k, new PyFloat(v)]));
  // scores and meta of records are floats in the evaluator's files (it rounds them); extra keys pass through.
  const recordJson = (record: RouteRecord): PyJson => ({
    ...(record as unknown as Record<string, PyJson>),
    scores: floats(record.scores),
    meta: floats(record.meta),
  });
  const globalJson: PyJson = global
    ? {
        index: -1,
        route_id: -1,
        status: global.status,
        infractions: floats(global.infractions),
        scores_mean: floats(global.scores_mean),
        // With a single route Python leaves the int 0 of the initial dict in place.
        scores_std_dev: progress[1] === 1 ? { ...global.scores_std_dev } : floats(global.scores_std_dev),
        meta: {
          total_length: new PyFloat(global.meta.total_length),
          duration_game: new PyFloat(global.meta.duration_game),
          duration_system: new PyFloat(global.meta.duration_system),
          exceptions: global.meta.exceptions.map((e) => [...e]),
        },
      }
    : {};
  return {
    _checkpoint: { global_record: globalJson, progress: [...progress], records: records.map(recordJson) },
    entry_status: merged.entry_status,
    eligible: merged.eligible,
    sensors: [...merged.sensors],
    values: [...merged.values],
    labels: [...merged.labels],
  };
}

export interface WorkerCheckpointFile {
  readonly worker: string;
  /** The file's text; undefined when the worker has not written one yet. */
  readonly raw: string | undefined;
  readonly assignment?: WorkerAssignment;
}

export interface WorkerMergeReport {
  readonly merged: MergedCheckpoint;
  /** Files that failed validation: skipped by the merge, each a failure of its worker. */
  readonly rejected: readonly { readonly worker: string; readonly error: CheckpointRejectedError }[];
  /** True when every expected route has a record and the global statistics were computed. */
  readonly complete: boolean;
}

export interface WorkerMergeOptions extends MergeOptions {
  readonly maxBytes?: number;
}

/**
 * Merges untrusted worker files. A file that fails validation never stops the merge: it is skipped
 * and reported, and with `expectedRoutes` its routes are not silently left out of the scores.
 */
export function mergeWorkerCheckpoints(
  files: readonly WorkerCheckpointFile[],
  options: WorkerMergeOptions = {},
): WorkerMergeReport {
  const rejected: { worker: string; error: CheckpointRejectedError }[] = [];
  const checkpoints = files.map((file) => {
    if (file.raw === undefined) return undefined;
    try {
      return parseCheckpoint(file.raw, { assignment: file.assignment, maxBytes: options.maxBytes });
    } catch (error) {
      if (!(error instanceof CheckpointRejectedError)) throw error;
      rejected.push({ worker: file.worker, error });
      return undefined;
    }
  });
  const merged = mergeCheckpoints(checkpoints, options);
  return { merged, rejected, complete: merged._checkpoint.global_record !== undefined };
}
