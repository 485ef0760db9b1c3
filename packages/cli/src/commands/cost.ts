import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { dateOption, STAGE_OPTION } from '../options.js';

export interface CostOptions {
  readonly since?: Date;
  readonly until?: Date;
  readonly json?: boolean;
  readonly stage?: string;
}

export function registerCostCommand(program: Command, io: CliIo): void {
  program
    .command('cost')
    .description('what the evaluations cost, per team and per phase: GPU-hours and money at the stage’s prices')
    .option(
      '--since <date>',
      'only submissions registered from this date (ISO 8601, e.g. 2026-12-01)',
      dateOption('--since'),
    )
    .option('--until <date>', 'only submissions registered before this date', dateOption('--until'))
    .option('--json', 'one JSON object instead of tables')
    .option(...STAGE_OPTION)
    .action(async (options: CostOptions) => (await import('./cost-run.js')).costCommand(io, options));
}
