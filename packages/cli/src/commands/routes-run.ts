import { existsSync } from 'node:fs';
import { CARLA_ROUTE_SETS, type CarlaRouteSet, routesFile } from '@pitwall/carla-routes';
import { type PlanStrategy, parseRouteFile, planRoutes, RouteFileError } from '@pitwall/domain';
import { readUserFile } from '../files.js';
import { type CliIo, UsageError } from '../io.js';

/** A path, or the name of a public CARLA route set shipped with Pitwall (devtest, training, validation). */
function resolveRoutesPath(nameOrPath: string): string {
  if (!existsSync(nameOrPath) && (CARLA_ROUTE_SETS as readonly string[]).includes(nameOrPath)) {
    return routesFile(nameOrPath as CarlaRouteSet);
  }
  return nameOrPath;
}

/** `routes plan`: the plan of a route file over the workers, as JSON. */
export async function planCommand(
  io: CliIo,
  options: { routes: string; workers: number; strategy: PlanStrategy },
): Promise<void> {
  const path = resolveRoutesPath(options.routes);
  try {
    const plan = planRoutes(parseRouteFile(await readUserFile(path)), options);
    io.out(JSON.stringify(plan, null, 2));
  } catch (error) {
    if (error instanceof RouteFileError) throw new UsageError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
