import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** A quick look at the domain rules, without starting anything. */
export function registerTourCommand(program: Command, io: CliIo): void {
  program
    .command('tour')
    .description('a quick tour of the domain rules: message parsing, Job names, route plans, the lifecycle')
    .action(async () => (await import('./tour-run.js')).tourCommand(io));
}
