import { allowedTransitions, evalAiUpdateFor, isTerminal, SUBMISSION_STATUSES } from '@pitwall/domain';

/** One line per status: where it can go, whether it ends the attempt, and what EvalAI is told. */
export function lifecycleTable(): string[] {
  return SUBMISSION_STATUSES.map((status) => {
    const update = evalAiUpdateFor(status);
    const evalai = update ? `${update.method} ${update.status}` : '(not sent)';
    const next = allowedTransitions(status).join(', ') || '-';
    return `${status.padEnd(10)} ${(isTerminal(status) ? 'terminal' : '').padEnd(9)} EvalAI: ${evalai.padEnd(16)} next: ${next}`;
  });
}
