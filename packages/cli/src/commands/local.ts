import { STANDIN_BEHAVIOURS } from '@pitwall/local/standin-behaviours';
import { type Command, Option } from 'commander';
import type { CliIo } from '../io.js';
import { integerOption } from '../options.js';

/** The executors a stack on this machine may use (a cluster's is `serve`'s alone). */
const STACK_EXECUTORS = ['processes', 'podman', 'docker'] as const;

/** What `demo` and `local up` take. */
export type StackOptions = { workers: number; msPerKm: number; executor: (typeof STACK_EXECUTORS)[number] };

/** The options of a stack on this machine: `demo` and `local up`. */
function stackCommand(command: Command): Command {
  return command
    .option('--workers <n>', 'workers per submission', integerOption('--workers', 1), 4)
    .option('--ms-per-km <n>', 'how fast the CARLA stand-in drives', integerOption('--ms-per-km', 1), 40)
    .addOption(
      new Option('--executor <executor>', 'how Jobs run: processes, or real containers with podman or docker')
        .choices(STACK_EXECUTORS)
        .default('processes'),
    );
}

export function registerLocalCommands(program: Command, io: CliIo): void {
  stackCommand(program.command('demo'))
    .description('run the whole pipeline on this machine: three agents evaluated, live progress, the leaderboard')
    .action(async (options: StackOptions) => (await import('./local-run.js')).demoCommand(io, options));

  const local = program.command('local').description('the local runtime');
  stackCommand(local.command('up'))
    .description('start the whole pipeline on this machine and keep it running (Ctrl-C stops it)')
    .action(async (options: StackOptions) => (await import('./local-run.js')).upCommand(io, options));

  program
    .command('submit')
    .description('submit an agent to the running local Pitwall, as `evalai push` would')
    .requiredOption('--team <name>', 'team name')
    .requiredOption('--image <uri>', `agent image, local/agent:<${STANDIN_BEHAVIOURS.join('|')}>`)
    .action(async (options: { team: string; image: string }) =>
      (await import('./local-run.js')).submitCommand(io, options),
    );
}
