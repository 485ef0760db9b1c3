import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { closeAll } from './closers.js';
import { registerActionCommands } from './commands/actions.js';
import { registerCostCommand } from './commands/cost.js';
import { registerLeaderboardCommand } from './commands/leaderboard.js';
import { registerLifecycleCommand } from './commands/lifecycle.js';
import { registerLocalCommands } from './commands/local.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerMessageCommands } from './commands/message.js';
import { registerNameCommands } from './commands/names.js';
import { registerResultsCommands } from './commands/results.js';
import { registerRoutesCommands } from './commands/routes.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSubmissionCommands } from './commands/submissions.js';
import { registerTourCommand } from './commands/tour.js';
import { type CliIo, CommandFailedError, processIo, UsageError } from './io.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * The whole command line, declared: each command's module loads when it runs, so that `--version` and
 * `--help` load none of them (docs/operating.md, bench:cli).
 */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('pitwall')
    .version(version, '--version', 'the version of this Pitwall')
    .description('Pitwall: evaluation backend for simulation leaderboards (CARLA Leaderboard 2.0 on EvalAI)')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    // Set before the commands are added so that every subcommand inherits it.
    .exitOverride();
  registerLocalCommands(program, io);
  registerServeCommand(program, io);
  registerSubmissionCommands(program, io);
  registerLogsCommand(program, io);
  registerActionCommands(program, io);
  registerLeaderboardCommand(program, io);
  registerCostCommand(program, io);
  registerTourCommand(program, io);
  registerMessageCommands(program, io);
  registerNameCommands(program, io);
  registerLifecycleCommand(program, io);
  registerRoutesCommands(program, io);
  registerResultsCommands(program, io);
  return program;
}

/** Runs the CLI and returns the exit code: 0 done, 2 bad usage or input, 1 anything else. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return failureCode(error, io);
  } finally {
    await closeAll();
  }
}

/** The exit code of a command that threw, and the one line it prints. */
function failureCode(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UsageError) {
    io.err(`pitwall: ${error.message}`);
    return 2;
  }
  if (error instanceof CommandFailedError) {
    io.err(`pitwall: ${error.message}`);
    return 1;
  }
  // Anything else is a defect or a failure underneath: one line for the user, the stack only on request.
  // Node's own errors can come from another realm (a test's VM), so not `instanceof Error`: read them by shape.
  const { message = String(error), stack } = (typeof error === 'object' && error !== null ? error : {}) as Error;
  const debug = Boolean(process.env.PITWALL_DEBUG);
  const detail = debug ? (stack ?? message) : message;
  io.err(`pitwall: ${detail}${debug ? '' : ' (PITWALL_DEBUG=1 prints where it came from)'}`);
  return 1;
}
