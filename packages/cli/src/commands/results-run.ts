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
import { readUserFile } from '../files.js';
import { type CliIo, UsageError } from '../io.js';

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

/** `results merge`: workers' partial checkpoints into one, as CARLA's merge_statistics.py does. */
export async function mergeCommand(
  io: CliIo,
  paths: string[],
  options: { out: string; expectedRoutes?: number },
): Promise<void> {
  const merged = merge(await Promise.all(paths.map(readCheckpoint)), options.expectedRoutes);
  await writeFile(options.out, formatMergedCheckpoint(merged));
  const [done, total] = merged._checkpoint.progress;
  const scored = merged._checkpoint.global_record ? `driving score ${merged.values[0]}` : 'no global statistics yet';
  io.out(
    `${options.out}: ${done} of ${total} routes from ${paths.length} file(s), entry status ${merged.entry_status}, ${scored}`,
  );
}

/** `results evalai`: the body of EvalAI's update_submission PUT for a merged checkpoint. */
export async function evalaiCommand(
  io: CliIo,
  path: string,
  options: { split?: string; submission?: number; phase?: number },
): Promise<void> {
  // A merged file merged on its own gives itself back, so this also validates it.
  const merged = merge([await readCheckpoint(path)]);
  const complete = merged._checkpoint.global_record !== undefined;
  const split = options.split ?? DEFAULT_LEADERBOARD.split;
  const fields = evalAiResultFields(merged, { leaderboard: { ...DEFAULT_LEADERBOARD, split } });
  const body = {
    ...(options.phase === undefined ? {} : { challenge_phase: options.phase }),
    ...(options.submission === undefined ? {} : { submission: options.submission }),
    submission_status: complete ? 'FINISHED' : 'PARTIALLY_EVALUATED',
    ...fields,
    environment_log: '',
  };
  if (!complete) io.err('not every route is done: send this to update_partially_evaluated_submission');
  io.out(JSON.stringify(body, null, 2));
}
