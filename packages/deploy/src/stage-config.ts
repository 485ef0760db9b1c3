import { challengeConfigSchema } from '@pitwall/domain';
import { clusterSettingsSchema } from '@pitwall/kube';
import { parse } from 'yaml';
import { z } from 'zod';

/** One deployment's configuration file, `stages/<stage>.yml`. */
export const stageConfigSchema = z.object({
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, { error: 'must be an AWS region' }),
  evalai: z.object({
    apiServer: z.url(),
    requestsPerMinute: z.number().int().min(1).max(60).default(50),
    queueArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sqs:/)
      .optional(),
  }),
  cluster: z.object({ name: z.string().min(1), settings: clusterSettingsSchema }),
  challenge: challengeConfigSchema,
  alarms: z.object({ email: z.email() }),
});
export type StageConfig = z.infer<typeof stageConfigSchema>;

export class StageConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StageConfigError';
  }
}

export function parseStageConfig(yamlText: string, source = 'the stage file'): StageConfig {
  let raw: unknown;
  try {
    raw = parse(yamlText);
  } catch (error) {
    throw new StageConfigError(`${source} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const result = stageConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new StageConfigError(`${source}: ${issue?.path.join('.')}: ${issue?.message}`, { cause: result.error });
  }
  const config = result.data;
  for (const phase of Object.values(config.challenge.phases)) {
    if (!config.cluster.settings.instanceTypes[phase.track]) {
      throw new StageConfigError(
        `${source}: cluster.settings.instanceTypes has no instance type for track ${phase.track}`,
      );
    }
  }
  return config;
}

/** What the Serverless files read: everything as strings, ready for Lambda environment variables. */
export function serverlessVariables(stage: string, config: StageConfig) {
  return {
    stage,
    region: config.region,
    evalaiApiServer: config.evalai.apiServer,
    evalaiRequestsPerMinute: String(config.evalai.requestsPerMinute),
    externalQueueArn: config.evalai.queueArn ?? '',
    clusterName: config.cluster.name,
    clusterSettingsJson: JSON.stringify(config.cluster.settings),
    challengeConfigJson: JSON.stringify(config.challenge),
    alarmEmail: config.alarms.email,
    bucket: config.cluster.settings.bucket,
    table: config.cluster.settings.table,
  };
}
