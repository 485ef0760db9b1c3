import { z } from 'zod';
import { InvalidMessageError } from './errors.js';

/** EvalAI's messages are a few hundred bytes; anything near SQS's limit is not from EvalAI. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** ECR image URIs are far shorter; this bounds what reaches logs, DynamoDB and the Job spec. */
export const MAX_IMAGE_URI_LENGTH = 512;

/** The submission message EvalAI's sender publishes (apps/jobs/sender.py). */
export interface SubmissionMessage {
  readonly challengePk: number;
  readonly phasePk: number;
  readonly submissionPk: number;
  readonly submittedImageUri?: string;
  readonly isStaticDatasetCodeUploadSubmission?: boolean;
  /** Keys EvalAI may add later: kept for the record, never acted on. */
  readonly extra: Readonly<Record<string, unknown>>;
}

// EvalAI sends challenge_pk and phase_pk as strings (URL kwargs) and submission_pk as a number.
const primaryKey = z
  .union([z.number(), z.string()], { error: 'must be a positive integer or a string of digits' })
  .transform((value, ctx) => {
    const id = typeof value === 'number' ? value : /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(id) || id < 1) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a positive integer, got ${JSON.stringify(value).slice(0, 40)}`,
      });
      return z.NEVER;
    }
    return id;
  });

const KNOWN_KEYS = [
  'challenge_pk',
  'phase_pk',
  'submission_pk',
  'submitted_image_uri',
  'is_static_dataset_code_upload_submission',
] as const;

const messageSchema = z.looseObject({
  challenge_pk: primaryKey,
  phase_pk: primaryKey,
  submission_pk: primaryKey,
  submitted_image_uri: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(MAX_IMAGE_URI_LENGTH, { error: `must be at most ${MAX_IMAGE_URI_LENGTH} characters` })
    .optional(),
  is_static_dataset_code_upload_submission: z.boolean({ error: 'must be true or false' }).optional(),
});

/**
 * Parses EvalAI's SQS message body, given as the raw string or as already-decoded JSON.
 * Throws InvalidMessageError naming the field at fault.
 */
export function parseSubmissionMessage(body: unknown): SubmissionMessage {
  const decoded = decode(body);
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw new InvalidMessageError('(body)', 'must be a JSON object');
  }
  const result = messageSchema.safeParse(decoded);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? issue.path.map(String).join('.') : '(body)';
    const missing = issue?.path.length === 1 && !(field in decoded);
    throw new InvalidMessageError(field, missing ? 'is required' : (issue?.message ?? 'is invalid'), {
      cause: result.error,
    });
  }
  const data = result.data;
  const extra = Object.fromEntries(
    Object.entries(data).filter(([key]) => !(KNOWN_KEYS as readonly string[]).includes(key)),
  );
  return {
    challengePk: data.challenge_pk,
    phasePk: data.phase_pk,
    submissionPk: data.submission_pk,
    ...(data.submitted_image_uri === undefined ? {} : { submittedImageUri: data.submitted_image_uri }),
    ...(data.is_static_dataset_code_upload_submission === undefined
      ? {}
      : { isStaticDatasetCodeUploadSubmission: data.is_static_dataset_code_upload_submission }),
    extra,
  };
}

/**
 * The body EvalAI's send_submission_message publishes: the three pks and no image, which Register then
 * reads from the submission's input file. Pitwall's reconciler re-sends lost messages in this form.
 */
export function formatSubmissionMessage(ids: { challengePk: number; phasePk: number; submissionPk: number }): string {
  return JSON.stringify({
    challenge_pk: String(ids.challengePk),
    phase_pk: String(ids.phasePk),
    submission_pk: ids.submissionPk,
  });
}

function decode(body: unknown): unknown {
  if (typeof body !== 'string') {
    const size = byteLength(body);
    if (size > MAX_MESSAGE_BYTES) tooLarge(size);
    return body;
  }
  const size = Buffer.byteLength(body, 'utf8');
  if (size > MAX_MESSAGE_BYTES) tooLarge(size);
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new InvalidMessageError('(body)', 'is not valid JSON', { cause: error });
  }
}

function byteLength(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch (error) {
    throw new InvalidMessageError('(body)', 'cannot be serialised as JSON', { cause: error });
  }
}

function tooLarge(size: number): never {
  throw new InvalidMessageError('(body)', `is ${size} bytes, more than the ${MAX_MESSAGE_BYTES}-byte limit`);
}
