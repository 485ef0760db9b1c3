import { type Command, Option } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption, STAGE_OPTION } from '../options.js';

/** The containers of a worker's pod whose logs logcopy keeps. */
export const CONTAINERS = ['agent', 'simulator', 'logcopy'] as const;
export type Container = (typeof CONTAINERS)[number];

export interface LogsOptions {
  readonly worker?: number;
  readonly container: Container;
  readonly follow?: boolean;
  readonly stage?: string;
}

export function registerLogsCommand(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description("a submission's container logs, as logcopy kept them (also after its jobs are gone)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option('--worker <w>', 'one worker only', integerOption('--worker', 0))
    .addOption(new Option('--container <name>', 'whose log').choices(CONTAINERS).default('agent'))
    .option('--follow', 'keep printing what the workers add, until the submission ends')
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: LogsOptions) => (await import('./logs-run.js')).logsCommand(io, pk, options));
}
