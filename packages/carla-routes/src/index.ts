import { fileURLToPath } from 'node:url';

/** The public route files of carla-simulator/leaderboard (leaderboard-2.0), MIT licensed. */
export const CARLA_ROUTE_SETS = ['devtest', 'training', 'validation'] as const;
export type CarlaRouteSet = (typeof CARLA_ROUTE_SETS)[number];

/** Absolute path of a route file, e.g. routesFile('validation') → …/routes_validation.xml. */
export function routesFile(set: CarlaRouteSet): string {
  return fileURLToPath(new URL(`../data/routes_${set}.xml`, import.meta.url));
}
