import { z } from 'zod';

/** logcopy's settings, from the environment the Job manifest gives it (parsed once, at start). */
const envSchema = z.object({
  SUBMISSION_PK: z.coerce.number().int().positive(),
  WORKER: z.coerce.number().int().min(0),
  ATTEMPT: z.coerce.number().int().positive().default(1),
  S3_BUCKET: z.string().min(3),
  S3_PREFIX: z.string().regex(/\/$/, { error: 'must end with /' }),
  DYNAMODB_TABLE: z.string().min(3),
  AWS_REGION: z.string().min(1),
  PERIOD_SECONDS: z.coerce.number().min(0.05).default(30),
  /** The most of one file uploaded; a longer log keeps its end, marked as cut. Its default is the Job's. */
  MAX_UPLOAD_BYTES: z.coerce.number().int().min(1024),
  STATUS_DIR: z.string().min(1),
  CHECKPOINT_PATH: z.string().min(1),
  LOG_DIR: z.string().min(1),
  /** The VPC endpoints the Job names (or the local servers); the services' public endpoints when absent. */
  S3_ENDPOINT: z.url().optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
});

export interface LogcopyConfig {
  readonly submissionPk: number;
  readonly worker: number;
  readonly attempt: number;
  readonly bucket: string;
  readonly prefix: string;
  readonly table: string;
  readonly region: string;
  readonly periodMs: number;
  readonly maxUploadBytes: number;
  readonly statusDir: string;
  readonly checkpointPath: string;
  readonly logDir: string;
  readonly endpoints: { readonly s3?: string; readonly dynamodb?: string };
}

export function readLogcopyConfig(env: Readonly<Record<string, string | undefined>>): LogcopyConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`logcopy: environment variable ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const e = parsed.data;
  return {
    submissionPk: e.SUBMISSION_PK,
    worker: e.WORKER,
    attempt: e.ATTEMPT,
    bucket: e.S3_BUCKET,
    prefix: e.S3_PREFIX,
    table: e.DYNAMODB_TABLE,
    region: e.AWS_REGION,
    periodMs: e.PERIOD_SECONDS * 1000,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    statusDir: e.STATUS_DIR,
    checkpointPath: e.CHECKPOINT_PATH,
    logDir: e.LOG_DIR,
    endpoints: {
      ...(e.S3_ENDPOINT ? { s3: e.S3_ENDPOINT } : {}),
      ...(e.DYNAMODB_ENDPOINT ? { dynamodb: e.DYNAMODB_ENDPOINT } : {}),
    },
  };
}
