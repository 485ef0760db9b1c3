import { existsSync } from 'node:fs';
import { CARLA_ROUTE_SETS, type CarlaRouteSet, routesFile } from '@pitwall/carla-routes';
import { PLAN_STRATEGIES, type PlanStrategy, parseRouteFile, planRoutes, RouteFileError } from '@pitwall/domain';
import { type Command, Option } from 'commander';
import { readUserFile } from '../files.js';
import { type CliIo, UsageError } from '../io.js';
import { integerOption } from '../options.js';

/** A path, or the name of a public CARLA route set shipped with Pitwall (devtest, training, validation). */
export function resolveRoutesPath(nameOrPath: string): string {
  if (!existsSync(nameOrPath) && (CARLA_ROUTE_SETS as readonly string[]).includes(nameOrPath)) {
    return routesFile(nameOrPath as CarlaRouteSet);
  }
  return nameOrPath;
}

export function registerRoutesCommands(program: Command, io: CliIo): void {
  const routes = program.command('routes').description('CARLA route files');
  routes
    .command('plan')
    .description('split the routes of a route file over GPU workers and print the plan as JSON')
    .requiredOption('--routes <file>', `route XML file, or one of the bundled sets: ${CARLA_ROUTE_SETS.join(', ')}`)
    .requiredOption('--workers <n>', 'most workers to use', integerOption('--workers', 1))
    .addOption(new Option('--strategy <name>', 'how to split').choices(PLAN_STRATEGIES).default('balanced'))
    .action(async (options: { routes: string; workers: number; strategy: PlanStrategy }) => {
      const path = resolveRoutesPath(options.routes);
      try {
        const plan = planRoutes(parseRouteFile(await readUserFile(path)), options);
        io.out(JSON.stringify(plan, null, 2));
      } catch (error) {
        if (error instanceof RouteFileError) throw new UsageError(`${path}: ${error.message}`, { cause: error });
        throw error;
      }
    });
}
