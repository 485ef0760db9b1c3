import { CARLA_ROUTE_SETS } from '@pitwall/carla-routes';
import { PLAN_STRATEGIES, type PlanStrategy } from '@pitwall/domain/route-plan';
import { type Command, Option } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption } from '../options.js';

export function registerRoutesCommands(program: Command, io: CliIo): void {
  const routes = program.command('routes').description('CARLA route files');
  routes
    .command('plan')
    .description('split the routes of a route file over GPU workers and print the plan as JSON')
    .requiredOption('--routes <file>', `route XML file, or one of the bundled sets: ${CARLA_ROUTE_SETS.join(', ')}`)
    .requiredOption('--workers <n>', 'most workers to use', integerOption('--workers', 1))
    .addOption(new Option('--strategy <name>', 'how to split').choices(PLAN_STRATEGIES).default('balanced'))
    .action(async (options: { routes: string; workers: number; strategy: PlanStrategy }) =>
      (await import('./routes-run.js')).planCommand(io, options),
    );
}
