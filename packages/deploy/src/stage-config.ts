import { challengeConfigSchema } from '@pitwall/domain';
import { clusterLayoutSchema, clusterSettingsSchema, kubernetesNameSchema } from '@pitwall/kube';
import { parse } from 'yaml';
import { z } from 'zod';

/** The EvalAI server, the host token's budget and the challenge's queue: the same for AWS and for one machine. */
const evalaiSchema = z.strictObject({
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
});

/** One deployment's configuration file, `stages/<stage>.yml`. */
export const stageConfigSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, { error: 'must be an AWS region' }),
  evalai: evalaiSchema,
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

/**
 * One machine's configuration file for `pitwall serve --stage <stage>`: a real EvalAI challenge served from
 * this machine, with its stores embedded under the state folder and its Jobs run by a local executor.
 */
export const machineStageSchema = z.strictObject({
  evalai: evalaiSchema.extend({
    /** A file holding the host token (never the token itself here); PITWALL_EVALAI_TOKEN instead, if unset. */
    tokenFile: z.string().min(1).optional(),
    /** How often EvalAI's REST proxy is read (queueName): each empty read costs one request of the budget. */
    relaySeconds: z.number().min(1).default(30),
  }),
  machine: z.strictObject({
    /**
     * How Jobs run: real containers with podman or docker, on a Kubernetes cluster (`cluster`), or processes
     * with the CARLA stand-in (trying it out).
     */
    executor: z.enum(['podman', 'docker', 'kubernetes', 'processes']).default('podman'),
    /** The simulator, evaluator and logcopy images the containers run, fully qualified, already on the machine. */
    images: clusterSettingsSchema.shape.images.optional(),
    /**
     * The GPUs the container executor hands out, one per Job: a CDI kind's devices, all the machine's unless named
     * (`nvidia-ctk cdi generate` writes nvidia.com/gpu). `none` runs Jobs without, for the stand-ins only.
     */
    gpus: z
      .union([
        z.literal('none'),
        z.strictObject({ kind: z.string().min(1).optional(), devices: z.array(z.string().min(1)).min(1).optional() }),
      ])
      .default({}),
    /**
     * The cluster the kubernetes executor runs the Jobs on (an on-premises GPU cluster, say): its kubeconfig
     * and context, this machine's address as its pods reach it (the stores listen there), the Secret in the
     * Jobs' namespace holding the stores' key for logcopy, and how the Jobs are laid out (namespace, the
     * instance type label of each track's nodes, limits).
     */
    cluster: z
      .strictObject({
        kubeconfig: z.string().min(1),
        context: z.string().min(1).optional(),
        storesAddress: z.string().min(1),
        logcopySecret: kubernetesNameSchema,
        layout: clusterLayoutSchema,
      })
      .optional(),
    /**
     * The public read-only status page (submission ids, queue places, progress; team names only if the
     * challenge's queue.publicStatus allows), on this address; none unless given.
     */
    publicStatus: z
      .strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        /**
         * The names participants reach the page by (status.example.org): a request whose Host is another name is
         * refused, so that no page elsewhere can read it through DNS rebinding. IP addresses are always answered.
         */
        hostNames: z.array(z.string().min(1)).default([]),
      })
      .optional(),
    /** Route files by the key the phases name (routesKey); the CARLA validation routes are always there. */
    routeFiles: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Where the stores, artifacts and Jobs are kept; `.pitwall/serve-<stage>` by default. */
    stateDir: z.string().min(1).optional(),
  }),
  challenge: challengeConfigSchema,
});
export type MachineStageConfig = z.infer<typeof machineStageSchema>;

function parseYamlWith<T>(schema: z.ZodType<T>, yamlText: string, source: string): T {
  let raw: unknown;
  try {
    raw = parse(yamlText);
  } catch (error) {
    throw new StageConfigError([`${source}: not valid YAML: ${(error as Error).message.split('\n')[0]}`], {
      cause: error,
    });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new StageConfigError(
      result.error.issues.map((issue) => `${source}: ${issue.path.join('.') || '(file)'}: ${describe(issue)}`),
      { cause: result.error },
    );
  }
  return result.data;
}

/** The challenge's queue is reached one way: the host's (use_host_sqs) or EvalAI's, through its REST proxy. */
function checkOneQueue(evalai: { queueArn?: string; queueName?: string }, source: string, required: boolean): void {
  if (evalai.queueArn && evalai.queueName) {
    throw new StageConfigError([
      `${source}: evalai: queueArn (the host's own queue, use_host_sqs) and queueName (EvalAI's, read through its REST proxy) are two ways in: give one`,
    ]);
  }
  if (required && !evalai.queueArn && !evalai.queueName) {
    throw new StageConfigError([
      `${source}: evalai: give queueArn (the host's own queue, use_host_sqs) or queueName (EvalAI's, read through its REST proxy): without one no submission reaches this machine`,
    ]);
  }
}

export function parseMachineStage(yamlText: string, source = 'the stage file'): MachineStageConfig {
  const config = parseYamlWith(machineStageSchema, yamlText, source);
  checkOneQueue(config.evalai, source, true);
  if ((config.machine.executor === 'kubernetes') !== Boolean(config.machine.cluster)) {
    throw new StageConfigError([
      `${source}: machine: cluster: ${config.machine.cluster ? 'is for the kubernetes executor only' : 'the kubernetes executor runs the Jobs on the cluster named here'}`,
    ]);
  }
  if (config.machine.executor === 'processes' && !onThisMachine(config.evalai.apiServer)) {
    throw new StageConfigError([
      `${source}: machine: executor: processes runs the CARLA stand-in, never the participants' images: use podman, docker or kubernetes against ${config.evalai.apiServer} (processes is for an EvalAI on this machine, such as the emulator)`,
    ]);
  }
  if (config.machine.executor !== 'processes' && !config.machine.images) {
    throw new StageConfigError([
      `${source}: machine: images: the ${config.machine.executor} executor runs the simulator, evaluator and logcopy images named here`,
    ]);
  }
  return config;
}

/** An EvalAI on this machine's loopback: the emulator, never a challenge participants submit to. */
function onThisMachine(apiServer: string): boolean {
  const host = new URL(apiServer).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function parseStageConfig(yamlText: string, source = 'the stage file'): StageConfig {
  const config = parseYamlWith(stageConfigSchema, yamlText, source);
  checkOneQueue(config.evalai, source, false);
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
