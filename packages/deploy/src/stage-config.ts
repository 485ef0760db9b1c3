import { challengeConfigSchema } from '@pitwall/domain';
import { clusterSettingsSchema } from '@pitwall/kube';
import { parse } from 'yaml';
import { z } from 'zod';

/** One deployment's configuration file, `stages/<stage>.yml`. */
export const stageConfigSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, { error: 'must be an AWS region' }),
  evalai: z.strictObject({
    apiServer: z.url(),
    requestsPerMinute: z.number().int().min(1).max(60).default(50),
    queueArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sqs:/)
      .optional(),
    /**
     * The challenge's queue on EvalAI's side, when it has no use_host_sqs: a relay reads it through EvalAI's
     * REST proxy every minute into the queue Pitwall creates.
     */
    queueName: z.string().min(1).optional(),
  }),
  /** The stores every service reads: the artifacts bucket and the submissions table (and its -idempotency twin). */
  storage: z.strictObject({ bucket: z.string().min(3), table: z.string().min(3) }),
  // The region and the stores are the stage's own, given once, above.
  cluster: z.strictObject({
    name: z.string().min(1),
    settings: clusterSettingsSchema.omit({ region: true, bucket: true, table: true }),
  }),
  challenge: challengeConfigSchema,
  alarms: z.strictObject({ email: z.email() }),
});
export type StageConfig = z.infer<typeof stageConfigSchema>;

/** A stage file Pitwall cannot deploy: every problem found, one line each, with its path. */
export class StageConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(problems.join('\n'), options);
    this.name = 'StageConfigError';
  }
}

export function parseStageConfig(yamlText: string, source = 'the stage file'): StageConfig {
  let raw: unknown;
  try {
    raw = parse(yamlText);
  } catch (error) {
    throw new StageConfigError([`${source}: not valid YAML: ${(error as Error).message.split('\n')[0]}`], {
      cause: error,
    });
  }
  const result = stageConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new StageConfigError(
      result.error.issues.map((issue) => `${source}: ${issue.path.join('.') || '(file)'}: ${describe(issue)}`),
      { cause: result.error },
    );
  }
  const config = result.data;
  if (config.evalai.queueArn && config.evalai.queueName) {
    throw new StageConfigError([
      `${source}: evalai: queueArn (the host's own queue, use_host_sqs) and queueName (EvalAI's, read through its REST proxy) are two ways in: give one`,
    ]);
  }
  const missing = Object.entries(config.challenge.phases).filter(
    ([, phase]) => !config.cluster.settings.instanceTypes[phase.track],
  );
  if (missing.length > 0) {
    throw new StageConfigError(
      missing.map(
        ([pk, phase]) =>
          `${source}: cluster.settings.instanceTypes: has no instance type for track ${phase.track} (phase ${pk})`,
      ),
    );
  }
  return config;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (a typo?)`;
  }
  return issue.message;
}

/** What the Serverless files read: everything as strings, ready for Lambda environment variables. */
export function serverlessVariables(stage: string, config: StageConfig) {
  return {
    stage,
    region: config.region,
    evalaiApiServer: config.evalai.apiServer,
    evalaiRequestsPerMinute: String(config.evalai.requestsPerMinute),
    externalQueueArn: config.evalai.queueArn ?? '',
    evalaiQueueName: config.evalai.queueName ?? '',
    relayEnabled: config.evalai.queueName !== undefined,
    clusterName: config.cluster.name,
    clusterSettingsJson: JSON.stringify({
      ...config.cluster.settings,
      region: config.region,
      bucket: config.storage.bucket,
      table: config.storage.table,
    }),
    challengeConfigJson: JSON.stringify(config.challenge),
    alarmEmail: config.alarms.email,
    bucket: config.storage.bucket,
    table: config.storage.table,
  };
}
