import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption } from '../options.js';

export function registerResultsCommands(program: Command, io: CliIo): void {
  const results = program.command('results').description('CARLA checkpoint files and EvalAI results');

  results
    .command('merge')
    .description("merge workers' partial checkpoints exactly as CARLA's merge_statistics.py does")
    .argument('<partial...>', 'checkpoint files written by the evaluator, one per worker')
    .requiredOption('--out <file>', 'where to write the merged checkpoint')
    .option(
      '--expected-routes <n>',
      'routes × repetitions of the whole plan; no scores until all are there',
      integerOption('--expected-routes', 1),
    )
    .action(async (paths: string[], options: { out: string; expectedRoutes?: number }) =>
      (await import('./results-run.js')).mergeCommand(io, paths, options),
    );

  results
    .command('evalai')
    .description("print the body of EvalAI's update_submission PUT for a merged checkpoint")
    .argument('<merged>', 'a merged checkpoint file')
    .option('--split <name>', "dataset split codename of the phase (default: the CARLA challenge's)")
    .option('--submission <pk>', 'EvalAI submission id', integerOption('--submission', 1))
    .option('--phase <pk>', 'EvalAI challenge phase id', integerOption('--phase', 1))
    .action(async (path: string, options: { split?: string; submission?: number; phase?: number }) =>
      (await import('./results-run.js')).evalaiCommand(io, path, options),
    );
}
