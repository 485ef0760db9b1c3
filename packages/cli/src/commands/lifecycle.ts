import type { Command } from 'commander';
import type { CliIo } from '../io.js';

export function registerLifecycleCommand(program: Command, io: CliIo): void {
  program
    .command('lifecycle')
    .description('print the submission statuses, their transitions and how each is reported to EvalAI')
    .action(async () => {
      const { lifecycleTable } = await import('../lifecycle-table.js');
      for (const line of lifecycleTable()) io.out(line);
    });
}
