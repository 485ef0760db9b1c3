import { type ExecutionResult, type RunOptions, rawInvokers, runStateMachine } from '@pitwall/local';
import type { Stack } from './stack.js';

export type { ExecutionResult };

/**
 * Runs the real ASL file with the real handlers over the test stack's servers. The Waits take
 * milliseconds, but the stack's clock moves on by a poll period before each Observe after the first, as
 * the Wait would in AWS (the challenge's status watch runs once a period).
 */
export function runExecution(stack: Stack, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> {
  return runStateMachine(rawInvokers(stack.services), input, {
    ...options,
    beforeObserve: async (turn) => {
      if (turn > 1) stack.clock.advance(stack.plane.config.poll.initialSeconds);
      await options.beforeObserve?.(turn);
    },
  });
}
