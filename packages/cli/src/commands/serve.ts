import type { Command } from 'commander';
import type { CliIo } from '../io.js';

export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description(
      "serve a real EvalAI challenge from this machine: its queue, the control plane and this machine's Jobs",
    )
    .requiredOption('--stage <stage>', 'the machine stage: stages/<stage>.yml, or a path to a .yml file')
    .option('--check', "only ask EvalAI once whether it answers and the token is a host's of the challenge")
    .action(async (options: { stage: string; check?: boolean }) =>
      (await import('./serve-run.js')).serveCommand(io, options),
    );
}
