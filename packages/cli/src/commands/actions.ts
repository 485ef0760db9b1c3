import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption, STAGE_OPTION } from '../options.js';

/** What each action takes besides its submission: the stage, or the running local stack. */
export type StageOptions = { stage?: string };

/** What an operator does to a submission: cancel, resume, requeue, republish. */
export function registerActionCommands(program: Command, io: CliIo): void {
  const run = () => import('./actions-run.js');
  program
    .command('cancel')
    .description('cancel a submission: locally as its participant would on EvalAI, on a stage as the hosts')
    .requiredOption('--submission <pk>', 'submission id', integerOption('--submission', 1))
    .option(...STAGE_OPTION)
    .action(async (options: StageOptions & { submission: number }) =>
      (await run()).cancelCommand(io, options.submission, options),
    );

  program
    .command('resume')
    .description("a failed submission's next attempt, each worker continuing from its checkpoint (EvalAI's resume)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: StageOptions) => (await run()).resumeCommand(io, pk, options));

  program
    .command('requeue')
    .description('send the message of a submission that never started to the queue again')
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: StageOptions) => (await run()).requeueCommand(io, pk, options));

  program
    .command('republish')
    .description("send an ended submission's stored result to EvalAI again (never over a cancel)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: StageOptions) => (await run()).republishCommand(io, pk, options));
}
