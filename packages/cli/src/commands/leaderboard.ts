import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { STAGE_OPTION } from '../options.js';

export function registerLeaderboardCommand(program: Command, io: CliIo): void {
  program
    .command('leaderboard')
    .description('the leaderboard participants see: EvalAI’s board locally, the published results on a stage')
    .option('--json', 'one JSON array instead of a table')
    .option(...STAGE_OPTION)
    .action(async (options: { json?: boolean; stage?: string }) =>
      (await import('./leaderboard-run.js')).leaderboardCommand(io, options),
    );
}
