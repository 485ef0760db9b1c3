import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3ArtifactStore } from '@pitwall/adapters';
import type { Clock } from '@pitwall/domain';
import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import {
  type ClusterLayout,
  type ClusterSettings,
  KubernetesJobRunner,
  kubeconfigAccess,
  parseClusterSettings,
  storesNetworkPolicy,
} from '@pitwall/kube';
import { buildLocalPrograms } from '../bundles.js';
import { LOCAL_BUCKET, LOCAL_NODE_CLASS, LOCAL_REGION, LOCAL_TABLE } from '../local-challenge.js';
import type { LocalRuntimeOptions } from '../runtime-options.js';
import { type LocalStores, portOf } from '../stores.js';
import { LOCAL_IMAGES } from './container-images.js';
import { type ContainerEngine, ContainerJobRunner } from './container-job-runner.js';
import { GpuPool } from './gpu-pool.js';
import { InstantJobRunner } from './instant-job-runner.js';
import { standinPace } from './process-job.js';
import { ProcessJobRunner } from './process-job-runner.js';

/** How a runtime runs its Jobs: `--executor` and a machine stage's `executor` name one of these. */
export type LocalExecutor = 'processes' | ContainerEngine | 'kubernetes' | 'instant';

/** What an executor is made from: the runtime's options, its tracks and stores, and where it writes. */
export interface ExecutorContext {
  readonly options: LocalRuntimeOptions;
  readonly tracks: readonly string[];
  readonly artifacts: S3ArtifactStore;
  /** The stores' endpoints on this machine, and their signed gateways where a cluster reaches them. */
  readonly stores: { readonly dynamodb: string; readonly s3: string; readonly gateways: LocalStores['gateways'] };
  readonly clock: Clock;
  /** Where the cluster's NetworkPolicy for the worker pods is written. */
  readonly networkPolicyFile: string;
}

/** A runtime's Jobs: the runner, the GPUs it hands out, and what it does at a restart and at the end. */
export interface LocalJobs {
  readonly runner: ProcessJobRunner | ContainerJobRunner | InstantJobRunner | KubernetesJobRunner;
  /** The GPUs the executor hands out, when it has a pool. */
  readonly gpuCapacity?: number;
  /** After a restart: adopt the Jobs left on this machine (a cluster keeps its own). */
  recover(): Promise<void>;
  /** Stops what the executor started on this machine. */
  shutdown(): Promise<void>;
}

/** The executor asked for lacks what it runs with (the kubernetes one: a cluster and images). */
export class ExecutorSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutorSettingsError';
  }
}

const nothing = async () => {};

/** Each executor's factory, by its name. */
export const EXECUTORS: Readonly<Record<LocalExecutor, (context: ExecutorContext) => Promise<LocalJobs>>> = {
  processes: processExecutor,
  podman: (context) => containerExecutor('podman', context),
  docker: (context) => containerExecutor('docker', context),
  kubernetes: clusterExecutor,
  instant: async ({ options, artifacts, clock }) => ({
    runner: new InstantJobRunner(artifacts, {
      evaluationSeconds: options.evaluationSeconds ?? 0,
      clock,
      instanceType: LOCAL_NODE_CLASS,
    }),
    recover: nothing,
    shutdown: nothing,
  }),
};

/** Each Job's containers as processes: the real logcopy and the CARLA stand-in. */
async function processExecutor({ options, tracks, artifacts, stores }: ExecutorContext): Promise<LocalJobs> {
  const runner = new ProcessJobRunner({
    directory: join(options.stateDir, 'jobs'),
    settings: jobSettings(
      options,
      {
        simulator: 'local/carla-simulator:0.9.15',
        evaluator: 'local/leaderboard-evaluator:2.0',
        logcopy: 'local/pitwall-logcopy:dev',
      },
      stores,
      onThisMachine(tracks),
    ),
    programs: await buildLocalPrograms(join(options.stateDir, 'bin')),
    routeFile: async (key) => (await artifacts.get(key)) ?? '',
    logcopyEnv: LOGCOPY_CREDENTIALS,
    msPerKm: options.msPerKm ?? 50,
  });
  return { runner, recover: async () => void (await runner.recover()), shutdown: () => runner.shutdown() };
}

/** Each Job as a pod of real containers, from the local images. */
async function containerExecutor(
  engine: ContainerEngine,
  { options, tracks, stores }: ExecutorContext,
): Promise<LocalJobs> {
  const gpus = options.gpus ? await GpuPool.discover(options.gpus) : undefined;
  // The stand-ins' pace, and, with no GPU to give, their pretend one; real images get neither.
  const standin = options.images
    ? {}
    : { ...standinPace(options.msPerKm ?? 50), ...(gpus ? {} : { PITWALL_STANDIN_GPUS: '1' }) };
  const runner = new ContainerJobRunner({
    directory: join(options.stateDir, 'containers'),
    engine,
    settings: jobSettings(options, options.images ?? LOCAL_IMAGES, stores, onThisMachine(tracks)),
    logcopyEnv: LOGCOPY_CREDENTIALS,
    podEnv: standin,
    ...(gpus ? { gpus } : {}),
  });
  return {
    runner,
    ...(gpus ? { gpuCapacity: gpus.size } : {}),
    recover: async () => void (await runner.recover()),
    shutdown: () => runner.shutdown(),
  };
}

/**
 * Jobs on a Kubernetes cluster through its kubeconfig, laid out as the stage says, their logcopy given this
 * machine's stores' signed gateways and the Secret that holds their key. The cluster keeps its Jobs across a restart.
 */
async function clusterExecutor({ options, stores, networkPolicyFile }: ExecutorContext): Promise<LocalJobs> {
  const { cluster, images } = options;
  const { gateways } = stores;
  if (!cluster || !images || !gateways) {
    throw new ExecutorSettingsError('the kubernetes executor needs the cluster to run on and the images to run');
  }
  const endpoints = { dynamodb: gateways.dynamodb.endpoint, s3: gateways.s3.endpoint };
  const settings = jobSettings(options, images, endpoints, {
    layout: cluster.layout,
    logcopyCredentials: { secretName: cluster.logcopySecret },
  });
  const policy = storesNetworkPolicy(settings.namespace, cluster.storesAddress, [
    portOf(endpoints.dynamodb),
    portOf(endpoints.s3),
  ]);
  if (policy) writeFileSync(networkPolicyFile, JSON.stringify(policy, null, 2));
  else rmSync(networkPolicyFile, { force: true });
  const access = kubeconfigAccess({ path: cluster.kubeconfig, context: cluster.context });
  return { runner: new KubernetesJobRunner(access, settings), recover: nothing, shutdown: nothing };
}

/** How the Jobs are laid out: the same settings as on EKS, with this machine's stores as the AWS endpoints. */
function jobSettings(
  options: LocalRuntimeOptions,
  images: ClusterSettings['images'],
  stores: { readonly dynamodb: string; readonly s3: string },
  jobs: { readonly layout: ClusterLayout; readonly logcopyCredentials: ClusterSettings['logcopyCredentials'] },
): ClusterSettings {
  return parseClusterSettings({
    ...jobs.layout,
    ...options.podLimits,
    images,
    logcopyCredentials: jobs.logcopyCredentials,
    region: LOCAL_REGION,
    awsEndpoints: { s3: stores.s3, dynamodb: stores.dynamodb },
    bucket: LOCAL_BUCKET,
    table: LOCAL_TABLE,
  });
}

/**
 * Jobs on this machine's executors: every track on it, two crashes allowed, logcopy syncing four times a
 * second. Their logcopy has the stores' key in its environment (LOGCOPY_CREDENTIALS), which the credential
 * chain takes before the role, so the role is never assumed.
 */
function onThisMachine(tracks: readonly string[]) {
  return {
    layout: {
      instanceTypes: Object.fromEntries(tracks.map((track) => [track, LOCAL_NODE_CLASS])),
      backoffLimit: 2,
      logcopyPeriodSeconds: 0.25,
    },
    logcopyCredentials: { roleArn: 'arn:aws:iam::000000000000:role/pitwall-logcopy' },
  };
}

/** No STS here: the local servers take s3rver's fixed key, which the credential chain finds first. */
const LOGCOPY_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
};
