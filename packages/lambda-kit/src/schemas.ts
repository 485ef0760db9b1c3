import { PitwallError } from '@pitwall/domain';
import type { z } from 'zod';

/** A task got input the state machine should never send: a bug, never retried. */
export class InvalidTaskInputError extends PitwallError {}

export function parseTaskInput<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  const result = schema.safeParse(event);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InvalidTaskInputError(`task input ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      cause: result.error,
    });
  }
  return result.data;
}
