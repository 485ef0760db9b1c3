import type { SubmissionStatus } from '@pitwall/domain';
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption, STAGE_OPTION } from '../options.js';

/** `list` and `show`: where the submissions stand. */
export function registerSubmissionCommands(program: Command, io: CliIo): void {
  program
    .command('list')
    .description('every submission the running local Pitwall has: status, progress, why')
    .option('--status <status>', 'only this status (received, queued, running, finished, failed, cancelled, …)')
    .option('--team <name>', 'only this team')
    .option('--phase <pk>', 'only this phase', integerOption('--phase', 1))
    .option('--json', 'one JSON array instead of a table')
    .option(...STAGE_OPTION)
    .action(
      async (options: { status?: SubmissionStatus; team?: string; phase?: number; json?: boolean; stage?: string }) =>
        (await import('./submissions-run.js')).listCommand(io, options),
    );

  program
    .command('show')
    .description('one submission: its attempt, workers, the timeline of its statuses, and what EvalAI shows')
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option('--json', 'one JSON object instead of text')
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: { json?: boolean; stage?: string }) =>
      (await import('./submissions-run.js')).showCommand(io, pk, options),
    );
}
