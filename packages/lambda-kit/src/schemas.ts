import { PitwallError, POLL_PHASES } from '@pitwall/domain';
import { z } from 'zod';

/** A task got input the state machine should never send: a bug, never retried. */
export class InvalidTaskInputError extends PitwallError {}

export const submissionRefSchema = z.object({
  submissionPk: z.number().int().positive(),
  challengePk: z.number().int().positive(),
  phasePk: z.number().int().positive(),
  attempt: z.number().int().positive(),
  track: z.string(),
  teamPk: z.number().int().positive(),
  teamName: z.string(),
  imageUri: z.string(),
  registeredAt: z.string(),
  deadline: z.string(),
});

const pollStateSchema = z.object({
  phase: z.enum(POLL_PHASES),
  turn: z.number().int().min(0),
  waitSeconds: z.number().min(0),
  reason: z.string().optional(),
  failedWorkers: z.array(z.number().int().min(0)).optional(),
  handovers: z.number().int().min(0).optional(),
});

const caughtErrorSchema = z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() });

const withSubmission = z.object({ submission: submissionRefSchema });

export const taskInputs = {
  register: z.object({ event: z.unknown(), executionId: z.string().min(1) }),
  submission: withSubmission,
  launchWorker: withSubmission.extend({ worker: z.number().int().min(0) }),
  observe: withSubmission.extend({
    poll: z
      .object({ turn: z.number().int().min(0).optional(), handovers: z.number().int().min(0).optional() })
      .loose()
      .optional(),
  }),
  collect: withSubmission.extend({ poll: pollStateSchema }),
  publish: withSubmission.extend({
    outcome: z.object({
      status: z.enum(['finished', 'failed', 'cancelled']),
      reason: z.string().optional(),
      grantsQualification: z.string().optional(),
    }),
  }),
  handOver: z.object({
    registration: z.object({ submission: submissionRefSchema }).loose(),
    plan: z.unknown(),
    poll: pollStateSchema,
  }),
  handleFailure: z.object({
    executionId: z.string().min(1),
    state: z.looseObject({
      event: z.unknown().optional(),
      registration: z.unknown().optional(),
      error: caughtErrorSchema,
    }),
  }),
} as const;

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
