import type { RouteRecord } from './checkpoint.js';
import { type CarlaStatistic, globalStatistic, type MergedCheckpoint } from './merge.js';

/** How a challenge's leaderboard reads CARLA's statistics: configuration, not code. */
export interface LeaderboardConfig {
  /** The dataset split codename of the phase, e.g. `leaderboard`. */
  readonly split: string;
  readonly showToParticipant: boolean;
  /** EvalAI leaderboard label → the CARLA global statistic shown under it. */
  readonly labels: Readonly<Record<string, CarlaStatistic>>;
}

/** The CARLA challenge's 15 labels (leaderboard-cloud's generate_results.py). */
export const CARLA_LEADERBOARD_LABELS: Readonly<Record<string, CarlaStatistic>> = {
  'Driving score': 'score_composed',
  'Route completion': 'score_route',
  'Infraction penalty': 'score_penalty',
  'Collisions pedestrians': 'collisions_pedestrian',
  'Collisions vehicles': 'collisions_vehicle',
  'Collisions layout': 'collisions_layout',
  'Red light infractions': 'red_light',
  'Stop sign infractions': 'stop_infraction',
  'Off-road infractions': 'outside_route_lanes',
  'Route deviations': 'route_dev',
  'Route timeouts': 'route_timeout',
  'Agent blocked': 'vehicle_blocked',
  'Yield emergency vehicle infractions': 'yield_emergency_vehicle_infractions',
  'Scenario timeouts': 'scenario_timeouts',
  'Min speed infractions': 'min_speed_infractions',
};

export const DEFAULT_LEADERBOARD: LeaderboardConfig = {
  split: 'leaderboard',
  showToParticipant: true,
  labels: CARLA_LEADERBOARD_LABELS,
};

/** The simulator runs at 20 Hz: frames per second = 20 × (game time / system time). */
const SIMULATION_HZ = 20;

/** The body fields of EvalAI's update_submission PUT that carry results; strings, never null. */
export interface EvalAiResultFields {
  /** JSON string of `[{split, show_to_participant, accuracies}]`. */
  readonly result: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly metadata: string;
}

export interface EvalAiResultOptions {
  readonly leaderboard?: LeaderboardConfig;
  /** Lines for the participant's stderr, e.g. why a worker failed. */
  readonly errors?: readonly string[];
  /** Extra facts for the host, stored by EvalAI as the submission's metadata. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** The routes the submission had in all (the merge knows only the workers whose results were accepted). */
  readonly expectedRoutes?: number;
  /** Workers whose results file was refused: their routes are not counted, and the participant is told. */
  readonly refusedWorkers?: readonly string[];
}

/** Accuracies for the leaderboard: zeros until the global statistics exist, as leaderboard-cloud reports. */
export function accuracies(merged: MergedCheckpoint, leaderboard: LeaderboardConfig = DEFAULT_LEADERBOARD) {
  const global = merged._checkpoint.global_record;
  return Object.fromEntries(
    Object.entries(leaderboard.labels).map(([label, statistic]) => [
      label,
      global ? globalStatistic(global, statistic) : 0,
    ]),
  );
}

export function evalAiResultFields(merged: MergedCheckpoint, options: EvalAiResultOptions = {}): EvalAiResultFields {
  const leaderboard = options.leaderboard ?? DEFAULT_LEADERBOARD;
  const result = [
    {
      split: leaderboard.split,
      show_to_participant: leaderboard.showToParticipant,
      accuracies: accuracies(merged, leaderboard),
    },
  ];
  return {
    result: JSON.stringify(result),
    stdout: participantReport(merged, options),
    stderr: (options.errors ?? []).join('\n'),
    metadata: JSON.stringify({
      entry_status: merged.entry_status,
      eligible: merged.eligible,
      progress: merged._checkpoint.progress,
      ...options.metadata,
    }),
  };
}

/** What the participant reads: sensors, how far the run got, and one line per route. */
export function participantReport(
  merged: MergedCheckpoint,
  { expectedRoutes, refusedWorkers = [] }: Pick<EvalAiResultOptions, 'expectedRoutes' | 'refusedWorkers'> = {},
): string {
  const { progress, records, global_record: global } = merged._checkpoint;
  const lines = [
    `Sensors: ${merged.sensors.length ? merged.sensors.join(', ') : '(none reported)'}`,
    `Completed ${progress[0]} out of ${expectedRoutes ?? progress[1]} routes`,
    ...refusedWorkers.map(
      (worker) => `The results of worker ${worker} could not be accepted (see the errors): its routes are not counted.`,
    ),
    `Entry status: ${merged.entry_status}`,
  ];
  if (global) {
    const ratio = timeRatio(global.meta.duration_game, global.meta.duration_system);
    lines.push(`Average ratio (game/system time): ${ratio.toFixed(3)}, FPS: ${(SIMULATION_HZ * ratio).toFixed(2)}`);
  }
  if (records.length > 0) {
    lines.push('', 'Index  Route                        Ratio  FPS    Status');
    for (const record of records) lines.push(routeLine(record));
  }
  return `${lines.join('\n')}\n`;
}

function routeLine(record: RouteRecord): string {
  const ratio = timeRatio(record.meta.duration_game, record.meta.duration_system);
  return [
    String(record.index).padEnd(6),
    record.route_id.padEnd(28),
    ratio.toFixed(3).padEnd(6),
    (SIMULATION_HZ * ratio).toFixed(2).padEnd(6),
    record.status,
  ].join(' ');
}

function timeRatio(game: number, system: number): number {
  return system > 0 && game > 0 ? game / system : 0;
}
