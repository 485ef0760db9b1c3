import { z } from 'zod';
import { CheckpointRejectedError } from '../errors.js';

/**
 * The CARLA Leaderboard 2.0 checkpoint file, written by the evaluator inside the untrusted agent
 * container. Field names are the file's own (snake_case).
 */

/** Infraction lists of a route record, in the order of the evaluator's PENALTY_NAME_DICT. */
export const INFRACTION_KEYS = [
  'collisions_layout',
  'collisions_pedestrian',
  'collisions_vehicle',
  'red_light',
  'stop_infraction',
  'outside_route_lanes',
  'min_speed_infractions',
  'yield_emergency_vehicle_infractions',
  'scenario_timeouts',
  'route_dev',
  'vehicle_blocked',
  'route_timeout',
] as const;
export type InfractionKey = (typeof INFRACTION_KEYS)[number];

export const SCORE_KEYS = ['score_composed', 'score_route', 'score_penalty'] as const;
export type ScoreKey = (typeof SCORE_KEYS)[number];

export const ENTRY_STATUSES = ['Started', 'Finished', 'Rejected', 'Crashed', 'Invalid'] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];

/** Bigger than any real checkpoint (90 routes with every infraction is well under 1 MiB). */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 4 * 1024 * 1024;
const MAX_TEXT = 2_000;
const MAX_LIST = 10_000;

export const ROUTE_ID = /^RouteScenario_([0-9]{1,9})_rep([0-9]{1,4})$/;
/** The 9th space-separated word of an off-road message is the distance in metres. */
const DECIMAL = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

const text = z.string().max(MAX_TEXT, { error: `must be at most ${MAX_TEXT} characters` });
const finite = z.number({ error: 'must be a number' }).refine(Number.isFinite, { error: 'must be finite' });
const bounded = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .min(min, { error: `must be between ${min} and ${max}` })
    .max(max, {
      error: `must be between ${min} and ${max}`,
    });
const count = z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(0, {
  error: 'must not be negative',
});
const messages = z.array(text, { error: 'must be a list of messages' }).max(MAX_LIST);

const routeRecordSchema = z.looseObject({
  index: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(-1),
  route_id: z
    .string({ error: 'must be a string' })
    .regex(ROUTE_ID, { error: 'must look like RouteScenario_<n>_rep<r>' }),
  status: text.refine((s) => /^(Perfect|Completed|Started|Failed( - .+)?)$/.test(s), {
    error: 'must be Perfect, Completed, Started, Failed or "Failed - <reason>"',
  }),
  num_infractions: count,
  infractions: z.strictObject(
    Object.fromEntries(INFRACTION_KEYS.map((key) => [key, messages])) as Record<InfractionKey, typeof messages>,
  ),
  scores: z.strictObject({
    score_route: bounded(0, 100),
    score_penalty: bounded(0, 1),
    score_composed: bounded(0, 100),
  }),
  meta: z.strictObject({
    route_length: bounded(0, 1e7),
    // The evaluator writes -1 when a route never started.
    duration_game: finite.min(-1, { error: 'must be at least -1' }),
    duration_system: finite.min(-1, { error: 'must be at least -1' }),
  }),
  // Descriptive fields the evaluator adds; carried through as they are.
  scenario_name: text.nullable().optional(),
  weather_id: z.union([text, finite]).nullable().optional(),
  save_name: text.nullable().optional(),
  town_name: text.nullable().optional(),
});

const checkpointSchema = z.looseObject({
  _checkpoint: z.looseObject({
    global_record: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
    progress: z.tuple([count, count], { error: 'must be [done, total]' }),
    records: z.array(routeRecordSchema, { error: 'must be a list' }).max(MAX_LIST),
  }),
  entry_status: z.enum(ENTRY_STATUSES, { error: `must be one of ${ENTRY_STATUSES.join(', ')}` }),
  eligible: z.boolean({ error: 'must be true or false' }),
  sensors: z.array(text, { error: 'must be a list of strings' }).max(100),
  values: z.array(text, { error: 'must be a list of strings' }).max(100),
  labels: z.array(text, { error: 'must be a list of strings' }).max(100),
});

export type RouteRecord = z.infer<typeof routeRecordSchema>;
export type Checkpoint = z.infer<typeof checkpointSchema>;

/** What the worker was asked to run: its routes (ids from the route file) and the repetitions. */
export interface WorkerAssignment {
  readonly routeIds: readonly string[];
  readonly repetitions: number;
}

export interface ParseCheckpointOptions {
  readonly assignment?: WorkerAssignment;
  readonly maxBytes?: number;
}

/**
 * Reads an untrusted checkpoint file. Returns undefined for an empty file (the evaluator had not
 * written yet; the official merge skips these too). Throws CheckpointRejectedError saying what and where.
 */
export function parseCheckpoint(raw: string, options: ParseCheckpointOptions = {}): Checkpoint | undefined {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES;
  const size = Buffer.byteLength(raw, 'utf8');
  if (size > maxBytes) throw new CheckpointRejectedError('(file)', `is ${size} bytes, over the ${maxBytes}-byte limit`);
  if (raw.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new CheckpointRejectedError('(file)', 'is not valid JSON', { cause: error });
  }
  return validateCheckpoint(json, options);
}

export function validateCheckpoint(json: unknown, options: ParseCheckpointOptions = {}): Checkpoint | undefined {
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && Object.keys(json).length === 0) {
    return undefined;
  }
  const result = checkpointSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CheckpointRejectedError(formatPath(issue?.path ?? []), issue?.message ?? 'is invalid', {
      cause: result.error,
    });
  }
  checkConsistency(result.data, options.assignment);
  return result.data;
}

export function parseRouteId(routeId: string): { route: number; repetition: number } {
  const match = ROUTE_ID.exec(routeId);
  if (!match) throw new CheckpointRejectedError('route_id', `${JSON.stringify(routeId)} is not a CARLA route id`);
  return { route: Number(match[1]), repetition: Number(match[2]) };
}

/** The off-road distance (km) the official statistics read from the first outside_route_lanes message. */
export function offRoadKilometres(record: RouteRecord): number {
  const first = record.infractions.outside_route_lanes[0];
  if (first === undefined) return 0;
  return Number(first.split(' ')[8]) / 1000;
}

function checkConsistency(checkpoint: Checkpoint, assignment: WorkerAssignment | undefined): void {
  const { progress, records, global_record } = checkpoint._checkpoint;
  const [done, total] = progress;
  const where = '_checkpoint.progress';
  if (done > total) throw new CheckpointRejectedError(where, `says ${done} routes done out of ${total}`);
  if (records.length > total) {
    throw new CheckpointRejectedError(where, `says ${total} routes in all but the file has ${records.length} records`);
  }
  // A resume after a crash re-runs the last route, so the count can trail the records by one.
  if (Math.abs(done - records.length) > 1) {
    throw new CheckpointRejectedError(where, `says ${done} routes done but the file has ${records.length} records`);
  }
  if (assignment && total !== assignment.routeIds.length * assignment.repetitions) {
    throw new CheckpointRejectedError(
      where,
      `says ${total} routes in all but the worker was assigned ${assignment.routeIds.length} route(s) × ${assignment.repetitions}`,
    );
  }
  const finished = records.length === total;
  if (Object.keys(global_record).length > 0 && !finished) {
    throw new CheckpointRejectedError('_checkpoint.global_record', 'is filled in before every route is done');
  }
  if (checkpoint.entry_status === 'Finished' && !finished) {
    throw new CheckpointRejectedError('entry_status', 'is Finished before every route is done');
  }
  const assigned = assignment ? new Set(assignment.routeIds.map(String)) : undefined;
  const seen = new Set<string>();
  records.forEach((record, i) => {
    const at = `_checkpoint.records[${i}]`;
    const { route, repetition } = parseRouteId(record.route_id);
    if (assigned && !assigned.has(String(route))) {
      throw new CheckpointRejectedError(`${at}.route_id`, `${record.route_id} is not one of this worker's routes`);
    }
    if (assignment && repetition >= assignment.repetitions) {
      throw new CheckpointRejectedError(
        `${at}.route_id`,
        `${record.route_id} is beyond ${assignment.repetitions} repetition(s)`,
      );
    }
    const key = `${route}_${repetition}`;
    if (seen.has(key)) throw new CheckpointRejectedError(`${at}.route_id`, `${record.route_id} appears twice`);
    seen.add(key);
    checkScores(record, at);
    const offRoad = record.infractions.outside_route_lanes[0];
    if (offRoad !== undefined && !DECIMAL.test(offRoad.split(' ')[8] ?? '')) {
      throw new CheckpointRejectedError(
        `${at}.infractions.outside_route_lanes[0]`,
        'does not give the distance in metres as its 9th word',
      );
    }
  });
}

/**
 * The fixed coefficient each infraction event multiplies the penalty by (statistics_manager.py). The
 * others carry none (they end the route, or only shorten it); min-speed events only lower it further.
 */
export const PENALTY_COEFFICIENTS: Readonly<Partial<Record<InfractionKey, number>>> = {
  collisions_pedestrian: 0.5,
  collisions_vehicle: 0.6,
  collisions_layout: 0.65,
  red_light: 0.7,
  stop_infraction: 0.8,
  scenario_timeouts: 0.7,
  yield_emergency_vehicle_infractions: 0.7,
};

/** score_route and score_penalty are each rounded to 6 digits from the factors composed is made of. */
const COMPOSED_TOLERANCE = 1e-4;
const PENALTY_TOLERANCE = 1e-6;

/**
 * A record's scores must agree with themselves: the file is written by a process that runs the
 * participant's code, and a forged composed score would move the team up the board.
 */
function checkScores(record: RouteRecord, at: string): void {
  const { score_route: route, score_penalty: penalty, score_composed: composed } = record.scores;
  const expected = Math.max(route * penalty, 0);
  if (Math.abs(composed - expected) > COMPOSED_TOLERANCE) {
    throw new CheckpointRejectedError(
      `${at}.scores.score_composed`,
      `is ${composed}, but score_route ${route} × score_penalty ${penalty} is ${Number(expected.toFixed(6))}`,
    );
  }
  const listed = INFRACTION_KEYS.filter((key) => record.infractions[key].length > 0);
  const bound = listed.reduce(
    (product, key) => product * (PENALTY_COEFFICIENTS[key] ?? 1) ** record.infractions[key].length,
    1,
  );
  if (penalty > bound + PENALTY_TOLERANCE) {
    throw new CheckpointRejectedError(
      `${at}.scores.score_penalty`,
      `is ${penalty}, more than the ${Number(bound.toFixed(6))} the infractions it lists allow`,
    );
  }
  if (listed.length === 0 && Math.abs(penalty - 1) > PENALTY_TOLERANCE) {
    throw new CheckpointRejectedError(`${at}.scores.score_penalty`, `is ${penalty}, but the route lists no infraction`);
  }
  // Off-road distance costs no penalty; the route-ending events leave the route incomplete.
  const penalised = listed.filter((key) => key in PENALTY_COEFFICIENTS || key === 'min_speed_infractions');
  if (record.status === 'Perfect' && (penalised.length > 0 || route < 100)) {
    throw new CheckpointRejectedError(
      `${at}.status`,
      penalised.length > 0
        ? `is Perfect, but the route lists infractions (${penalised.join(', ')})`
        : `is Perfect, but score_route is ${route}`,
    );
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(file)';
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}
