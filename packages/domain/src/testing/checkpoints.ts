import { INFRACTION_KEYS } from '../results/checkpoint.js';

/**
 * A stand-in for the evaluator in a worker: writes the CARLA checkpoint for the worker's routes.
 * Even route ids drive perfectly (100 × 1.0); odd ones complete with a collision (100 × 0.5).
 */
export function checkpointText(routeIds: readonly string[], done = routeIds.length): string {
  const records = routeIds.slice(0, done).map((id, index) => {
    const even = Number(id) % 2 === 0;
    const infractions = Object.fromEntries(INFRACTION_KEYS.map((k) => [k, [] as string[]]));
    if (!even) infractions.collisions_vehicle = ['Agent collided against object with type=vehicle.audi.a2 and id=7'];
    return {
      index,
      route_id: `RouteScenario_${id}_rep0`,
      status: even ? 'Perfect' : 'Completed',
      num_infractions: even ? 0 : 1,
      infractions,
      scores: { score_route: 100.0, score_penalty: even ? 1.0 : 0.5, score_composed: even ? 100.0 : 50.0 },
      meta: { route_length: 1000.0, duration_game: 60.0, duration_system: 240.0 },
    };
  });
  const complete = done === routeIds.length;
  return JSON.stringify({
    _checkpoint: { global_record: {}, progress: [done, routeIds.length], records },
    entry_status: complete ? 'Finished' : 'Started',
    eligible: complete,
    sensors: ['carla_camera', 'carla_gnss'],
    values: [],
    labels: [],
  });
}
