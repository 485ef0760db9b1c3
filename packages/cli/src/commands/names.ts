import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption } from '../options.js';

export function registerNameCommands(program: Command, io: CliIo): void {
  const names = program.command('names').description('Kubernetes names Pitwall generates');
  names
    .command('job')
    .description('the Job name of one worker of a submission')
    .requiredOption('--team <name>', 'participant team name, as EvalAI has it')
    .requiredOption('--track <name>', 'track codename, e.g. SENSORS')
    .requiredOption('--submission <id>', 'EvalAI submission id')
    .requiredOption('--worker <index>', 'worker index, from 0', integerOption('--worker', 0))
    .option('--attempt <n>', 'attempt number, from 1', integerOption('--attempt', 1), 1)
    .action(async (options: { team: string; track: string; submission: string; worker: number; attempt: number }) => {
      const { workerJobName } = await import('@pitwall/domain');
      io.out(
        workerJobName({
          team: options.team,
          track: options.track,
          submissionId: options.submission,
          worker: options.worker,
          attempt: options.attempt,
        }),
      );
    });
}
