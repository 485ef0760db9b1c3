import { writeFile } from 'node:fs/promises';
import {
  type Checkpoint,
  CheckpointRejectedError,
  DEFAULT_LEADERBOARD,
  evalAiResultFields,
  formatMergedCheckpoint,
  type MergedCheckpoint,
  MergeError,
  mergeCheckpoints,
  parseCheckpoint,
} from '@pitwall/domain';
import type { Command } from 'commander';
import { readUserFile } from '../files.js';
import { type CliIo, UsageError } from '../io.js';
import { integerOption } from '../options.js';

async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  const text = await readUserFile(path);
  try {
    return parseCheckpoint(text);
  } catch (error) {
    if (error instanceof CheckpointRejectedError) throw new UsageError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

function merge(checkpoints: readonly (Checkpoint | undefined)[], expectedRoutes?: number): MergedCheckpoint {
  try {
    return mergeCheckpoints(checkpoints, expectedRoutes === undefined ? {} : { expectedRoutes });
  } catch (error) {
    if (error instanceof MergeError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

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
    .action(async (paths: string[], options: { out: string; expectedRoutes?: number }) => {
      const merged = merge(await Promise.all(paths.map(readCheckpoint)), options.expectedRoutes);
      await writeFile(options.out, formatMergedCheckpoint(merged));
      const [done, total] = merged._checkpoint.progress;
      const scored = merged._checkpoint.global_record
        ? `driving score ${merged.values[0]}`
        : 'no global statistics yet';
      io.out(
        `${options.out}: ${done} of ${total} routes from ${paths.length} file(s), entry status ${merged.entry_status}, ${scored}`,
      );
    });

  results
    .command('evalai')
    .description("print the body of EvalAI's update_submission PUT for a merged checkpoint")
    .argument('<merged>', 'a merged checkpoint file')
    .option('--split <name>', 'dataset split codename of the phase', DEFAULT_LEADERBOARD.split)
    .option('--submission <pk>', 'EvalAI submission id', integerOption('--submission', 1))
    .option('--phase <pk>', 'EvalAI challenge phase id', integerOption('--phase', 1))
    .action(async (path: string, options: { split: string; submission?: number; phase?: number }) => {
      // A merged file merged on its own gives itself back, so this also validates it.
      const merged = merge([await readCheckpoint(path)]);
      const complete = merged._checkpoint.global_record !== undefined;
      const fields = evalAiResultFields(merged, { leaderboard: { ...DEFAULT_LEADERBOARD, split: options.split } });
      const body = {
        ...(options.phase === undefined ? {} : { challenge_phase: options.phase }),
        ...(options.submission === undefined ? {} : { submission: options.submission }),
        submission_status: complete ? 'FINISHED' : 'PARTIALLY_EVALUATED',
        ...fields,
        environment_log: '',
      };
      if (!complete) io.err('not every route is done: send this to update_partially_evaluated_submission');
      io.out(JSON.stringify(body, null, 2));
    });
}
