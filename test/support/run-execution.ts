import { type ExecutionResult, type RunOptions, runStateMachine } from '@pitwall/local';
import type { Stack } from './stack.js';

export type { ExecutionResult };

/** Runs the real ASL file with the real handlers over the test stack's servers. */
export function runExecution(stack: Stack, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> {
  return runStateMachine(stack.services, input, options);
}
