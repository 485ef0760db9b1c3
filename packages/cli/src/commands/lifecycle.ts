import { allowedTransitions, evalAiUpdateFor, isTerminal, SUBMISSION_STATUSES } from '@pitwall/domain';
import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** One line per status: where it can go, whether it ends the attempt, and what EvalAI is told. */
export function lifecycleTable(): string[] {
  return SUBMISSION_STATUSES.map((status) => {
    const update = evalAiUpdateFor(status);
    const evalai = update ? `${update.method} ${update.status}` : '(not sent)';
    const next = allowedTransitions(status).join(', ') || '-';
    return `${status.padEnd(10)} ${(isTerminal(status) ? 'terminal' : '').padEnd(9)} EvalAI: ${evalai.padEnd(16)} next: ${next}`;
  });
}

export function registerLifecycleCommand(program: Command, io: CliIo): void {
  program
    .command('lifecycle')
    .description('print the submission statuses, their transitions and how each is reported to EvalAI')
    .action(() => {
      for (const line of lifecycleTable()) io.out(line);
    });
}
