import type { AwsClientOptions } from '@pitwall/adapters';
import { type ChallengeConfig, parseChallengeConfig } from '@pitwall/domain';
// The settings schema only: the Kubernetes client stays out of functions that never call the cluster.
import { type ClusterSettings, parseClusterSettings } from '@pitwall/kube/settings';
import { z } from 'zod';

/**
 * The one place a Lambda reads its environment: parsed once, at cold start, into a typed object.
 * A missing or malformed variable stops the function with a message naming it.
 */
const envSchema = z.object({
  AWS_REGION: z.string().min(1).default('eu-west-1'),
  /** The function's credentials, where the Lambda runtime puts them; AWS's credential chain when absent. */
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  PITWALL_TABLE: z.string().min(3),
  PITWALL_IDEMPOTENCY_TABLE: z.string().min(3),
  PITWALL_BUCKET: z.string().min(3),
  PITWALL_CHALLENGE_CONFIG: z.string().min(2),
  EVALAI_API_SERVER: z.url(),
  /** The host token itself (local runs), or the name of the Secrets Manager secret holding it. */
  EVALAI_TOKEN: z.string().min(1).optional(),
  EVALAI_TOKEN_SECRET: z.string().min(1).optional(),
  /** Pitwall's share of EvalAI's 60 requests per minute for this token. */
  EVALAI_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(60).default(50),
  /** The challenge's queue on EvalAI's side (no use_host_sqs), which the relay reads through the REST proxy. */
  EVALAI_QUEUE_NAME: z.string().optional(),
  /** The queue EvalAI publishes to: the reconciler re-sends lost messages there. */
  PITWALL_QUEUE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/, {
      error: 'must be an SQS queue ARN',
    })
    .optional(),
  /** Needed by the hand-over to a fresh execution and by the sweeper. */
  PITWALL_STATE_MACHINE_ARN: z.string().optional(),
  /** The EKS cluster that runs the Jobs, and how Jobs are laid out on it (JSON). */
  PITWALL_EKS_CLUSTER: z.string().min(1).optional(),
  PITWALL_CLUSTER_SETTINGS: z.string().min(2).optional(),
  /** Local servers instead of AWS (the local runtime). */
  PITWALL_DYNAMODB_ENDPOINT: z.url().optional(),
  PITWALL_S3_ENDPOINT: z.url().optional(),
});

export interface LambdaConfig {
  readonly table: string;
  readonly idempotencyTable: string;
  readonly bucket: string;
  readonly challenge: ChallengeConfig;
  readonly evalai: {
    readonly apiServer: string;
    readonly token?: string;
    readonly tokenSecret?: string;
    readonly requestsPerMinute: number;
    readonly queueName?: string;
  };
  readonly stateMachineArn?: string;
  readonly queueArn?: string;
  readonly cluster?: { readonly name: string; readonly settings: ClusterSettings };
  readonly endpoints: { readonly dynamodb?: string; readonly s3?: string };
  /** What every AWS client of the function is built with: the region, and the credentials if given. */
  readonly aws: AwsClientOptions;
}

export class ConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

export function readLambdaConfig(env: Readonly<Record<string, string | undefined>>): LambdaConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(`environment variable ${issue?.path.join('.')}: ${issue?.message}`, {
      cause: parsed.error,
    });
  }
  const e = parsed.data;
  if (!e.EVALAI_TOKEN && !e.EVALAI_TOKEN_SECRET) {
    throw new ConfigurationError('set EVALAI_TOKEN_SECRET (or EVALAI_TOKEN for local runs)');
  }
  let challenge: ChallengeConfig;
  try {
    challenge = parseChallengeConfig(JSON.parse(e.PITWALL_CHALLENGE_CONFIG));
  } catch (error) {
    const problems =
      error instanceof z.ZodError
        ? error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')
        : (error as Error).message;
    throw new ConfigurationError(`PITWALL_CHALLENGE_CONFIG is not a valid challenge configuration: ${problems}`, {
      cause: error,
    });
  }
  if (Boolean(e.AWS_ACCESS_KEY_ID) !== Boolean(e.AWS_SECRET_ACCESS_KEY)) {
    throw new ConfigurationError('set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither');
  }
  if (Boolean(e.PITWALL_EKS_CLUSTER) !== Boolean(e.PITWALL_CLUSTER_SETTINGS)) {
    throw new ConfigurationError('set both PITWALL_EKS_CLUSTER and PITWALL_CLUSTER_SETTINGS, or neither');
  }
  let cluster: LambdaConfig['cluster'];
  if (e.PITWALL_EKS_CLUSTER && e.PITWALL_CLUSTER_SETTINGS) {
    try {
      cluster = { name: e.PITWALL_EKS_CLUSTER, settings: parseClusterSettings(JSON.parse(e.PITWALL_CLUSTER_SETTINGS)) };
    } catch (error) {
      throw new ConfigurationError(`PITWALL_CLUSTER_SETTINGS is not valid: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return {
    table: e.PITWALL_TABLE,
    idempotencyTable: e.PITWALL_IDEMPOTENCY_TABLE,
    bucket: e.PITWALL_BUCKET,
    challenge,
    evalai: {
      apiServer: e.EVALAI_API_SERVER,
      ...(e.EVALAI_TOKEN ? { token: e.EVALAI_TOKEN } : {}),
      ...(e.EVALAI_TOKEN_SECRET ? { tokenSecret: e.EVALAI_TOKEN_SECRET } : {}),
      requestsPerMinute: e.EVALAI_REQUESTS_PER_MINUTE,
      ...(e.EVALAI_QUEUE_NAME ? { queueName: e.EVALAI_QUEUE_NAME } : {}),
    },
    ...(e.PITWALL_STATE_MACHINE_ARN ? { stateMachineArn: e.PITWALL_STATE_MACHINE_ARN } : {}),
    ...(e.PITWALL_QUEUE_ARN ? { queueArn: e.PITWALL_QUEUE_ARN } : {}),
    ...(cluster ? { cluster } : {}),
    endpoints: {
      ...(e.PITWALL_DYNAMODB_ENDPOINT ? { dynamodb: e.PITWALL_DYNAMODB_ENDPOINT } : {}),
      ...(e.PITWALL_S3_ENDPOINT ? { s3: e.PITWALL_S3_ENDPOINT } : {}),
    },
    aws: {
      region: e.AWS_REGION,
      ...(e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
        ? {
            credentials: {
              accessKeyId: e.AWS_ACCESS_KEY_ID,
              secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
              ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}),
            },
          }
        : {}),
    },
  };
}
