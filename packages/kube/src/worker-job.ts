import type { CapacityChoice, WorkerJobSpec } from '@pitwall/domain';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { labelValue } from './names.js';
import type { ClusterSettings } from './settings.js';

/** Paths inside the pod; the evaluator scripts and logcopy agree on them. */
export const POD_PATHS = {
  evaluator: '/workspace/leaderboard-code',
  checkpoint: '/tmp/agent/checkpoint.json',
  status: '/tmp/status',
  logs: '/tmp/logs',
  gpu: '/gpu',
  awsToken: '/var/run/secrets/pitwall/aws',
} as const;

export const LABELS = {
  app: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  submission: 'pitwall.dev/submission',
  attempt: 'pitwall.dev/attempt',
  worker: 'pitwall.dev/worker',
  team: 'pitwall.dev/team',
  track: 'pitwall.dev/track',
} as const;

/** Nothing a container does can gain privileges; no Linux capabilities at all. */
const LOCKED_DOWN: ISecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  privileged: false,
};

const env = (values: Record<string, string>) => Object.entries(values).map(([name, value]) => ({ name, value }));

/**
 * The Job for one worker of a submission: the CARLA simulator, the participant's agent (untrusted,
 * one GPU) and logcopy. Only logcopy holds cloud credentials (a projected web-identity token mounted
 * into it alone); the pod gets no service-account token, no service links and no EvalAI token.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the Job manifest is one literal: split, the pod would no longer read as one
export function buildWorkerJob(spec: WorkerJobSpec, settings: ClusterSettings): IJob {
  const nodeClass = settings.instanceTypes[spec.track];
  if (!nodeClass) throw new RangeError(`no instance type is configured for track ${spec.track}`);
  const worker = String(spec.worker);
  const routesFile = `${POD_PATHS.evaluator}/data/${spec.routesKey.split('/').at(-1) ?? 'routes.xml'}`;
  const labels = {
    [LABELS.app]: 'pitwall-worker',
    [LABELS.managedBy]: 'pitwall',
    [LABELS.submission]: String(spec.submissionPk),
    [LABELS.attempt]: String(spec.attempt),
    [LABELS.worker]: worker,
    [LABELS.team]: labelValue(spec.teamName),
    [LABELS.track]: labelValue(spec.track),
  };
  // Web identity: a token projected into logcopy alone. A Secret: its keys as logcopy's environment.
  const credentials = settings.logcopyCredentials;
  const webIdentity = 'roleArn' in credentials ? credentials.roleArn : undefined;
  const awsToken = { name: 'aws-token', mountPath: POD_PATHS.awsToken, readOnly: true };
  const awsTokenVolume = {
    name: awsToken.name,
    projected: {
      sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }],
    },
  };
  const logcopyCredentials: Pick<IContainer, 'envFrom'> =
    'secretName' in credentials ? { envFrom: [{ secretRef: { name: credentials.secretName } }] } : {};
  const logcopyEnv = env({
    SUBMISSION_PK: String(spec.submissionPk),
    WORKER: worker,
    ATTEMPT: String(spec.attempt),
    S3_BUCKET: settings.bucket,
    S3_PREFIX: spec.artifactPrefix,
    DYNAMODB_TABLE: settings.table,
    AWS_REGION: settings.region,
    S3_ENDPOINT: settings.awsEndpoints.s3,
    DYNAMODB_ENDPOINT: settings.awsEndpoints.dynamodb,
    ...(webIdentity ? { AWS_ROLE_ARN: webIdentity, AWS_WEB_IDENTITY_TOKEN_FILE: `${POD_PATHS.awsToken}/token` } : {}),
    PERIOD_SECONDS: String(settings.logcopyPeriodSeconds),
    MAX_UPLOAD_BYTES: String(settings.logcopyMaxUploadBytes),
    STATUS_DIR: POD_PATHS.status,
    CHECKPOINT_PATH: POD_PATHS.checkpoint,
    LOG_DIR: POD_PATHS.logs,
  });
  const logcopyMounts = [
    { name: 'status', mountPath: POD_PATHS.status },
    { name: 'checkpoint', mountPath: '/tmp/agent' },
    { name: 'logs', mountPath: POD_PATHS.logs },
    ...(webIdentity ? [awsToken] : []),
  ];
  const restore: IContainer = {
    name: 'restore',
    image: settings.images.logcopy,
    args: ['restore'],
    env: logcopyEnv,
    ...logcopyCredentials,
    volumeMounts: logcopyMounts,
    resources: limits(settings.resources.logcopy),
    securityContext: { ...LOCKED_DOWN, runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true },
  };
  const evaluatorFiles: IContainer = {
    name: 'evaluator-files',
    image: settings.images.evaluator,
    command: [
      'sh',
      '-c',
      // Not `cp -a`: as user 1000 it cannot set the times or owner of the emptyDir itself (root's) and fails.
      `cp -R /workspace/leaderboard/. ${POD_PATHS.evaluator}/ && mkdir -p ${POD_PATHS.logs} ${POD_PATHS.status}`,
    ],
    volumeMounts: [
      { name: 'evaluator', mountPath: POD_PATHS.evaluator },
      { name: 'logs', mountPath: POD_PATHS.logs },
      { name: 'status', mountPath: POD_PATHS.status },
    ],
    resources: limits(settings.resources.logcopy),
    securityContext: LOCKED_DOWN,
  };
  const simulator: IContainer = {
    name: 'simulator',
    image: settings.images.simulator,
    command: ['bash', `${POD_PATHS.evaluator}/scripts/run_carla.sh`],
    env: env({ WORKER_ID: worker, STATUS_DIR: POD_PATHS.status, GPU_DIR: POD_PATHS.gpu, LOG_DIR: POD_PATHS.logs }),
    volumeMounts: [
      { name: 'evaluator', mountPath: POD_PATHS.evaluator, readOnly: true },
      { name: 'status', mountPath: POD_PATHS.status },
      { name: 'logs', mountPath: POD_PATHS.logs },
      { name: 'gpu', mountPath: POD_PATHS.gpu, readOnly: true },
    ],
    resources: limits(settings.resources.simulator),
    securityContext: LOCKED_DOWN,
    restartPolicy: 'Always',
  };
  const agent: IContainer = {
    name: 'agent',
    image: spec.image,
    // The official scripts come from the evaluator image, so a participant cannot replace them.
    command: ['bash', `${POD_PATHS.evaluator}/scripts/run_leaderboard.sh`],
    env: env({
      WORKER_ID: worker,
      CHALLENGE_TRACK_CODENAME: spec.track,
      ROUTES: routesFile,
      ROUTES_SUBSET: spec.routesSubset,
      REPETITIONS: String(spec.repetitions),
      CHECKPOINT_ENDPOINT: POD_PATHS.checkpoint,
      RESUME: spec.resume ? '1' : '0',
      STATUS_DIR: POD_PATHS.status,
      GPU_DIR: POD_PATHS.gpu,
      LOG_DIR: POD_PATHS.logs,
    }),
    volumeMounts: [
      { name: 'evaluator', mountPath: POD_PATHS.evaluator, readOnly: true },
      { name: 'checkpoint', mountPath: '/tmp/agent' },
      { name: 'status', mountPath: POD_PATHS.status },
      { name: 'logs', mountPath: POD_PATHS.logs },
      // The agent writes its GPU's UUID here; the simulator renders on the same GPU.
      { name: 'gpu', mountPath: POD_PATHS.gpu },
    ],
    resources: limits(settings.resources.agent, { 'nvidia.com/gpu': '1' }),
    securityContext: LOCKED_DOWN,
  };
  const logcopy: IContainer = {
    name: 'logcopy',
    image: settings.images.logcopy,
    args: ['watch'],
    env: logcopyEnv,
    ...logcopyCredentials,
    volumeMounts: logcopyMounts,
    resources: limits(settings.resources.logcopy),
    securityContext: { ...LOCKED_DOWN, runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true },
    restartPolicy: 'Always',
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: spec.name,
      namespace: settings.namespace,
      labels,
      annotations: { 'pitwall.dev/team-name': spec.teamName.slice(0, 256) },
    },
    spec: {
      // A crash fails the pod and counts against backoffLimit; a node taken away (spot reclaim, drain) does
      // not. Either way a new pod restores the uploaded checkpoint and resumes with the next route.
      backoffLimit: settings.backoffLimit,
      podFailurePolicy: {
        rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
      },
      podReplacementPolicy: 'Failed',
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          // Never, for podFailurePolicy; the simulator and logcopy are sidecars (restartPolicy Always), so the
          // pod ends when the agent does.
          restartPolicy: 'Never',
          serviceAccountName: settings.serviceAccountName,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          priorityClassName: settings.priorityClassName,
          terminationGracePeriodSeconds: 60,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          ...placement(nodeClass, spec.capacity),
          initContainers: [evaluatorFiles, restore, logcopy, simulator],
          containers: [agent],
          volumes: [
            ...Object.entries(settings.scratchLimits).map(([name, sizeLimit]) => ({ name, emptyDir: { sizeLimit } })),
            ...(webIdentity ? [awsTokenVolume] : []),
          ],
        },
      },
    },
  };
}

/** The labels and taint of `cluster/cluster.yaml`'s node groups: the track's node class, on the capacity chosen. */
export const NODE_LABELS = {
  nodeClass: 'pitwall.dev/node-class',
  capacityType: 'eks.amazonaws.com/capacityType',
} as const;
/** What keeps pods off spot nodes unless they tolerate it (the spot groups' taint). */
export const SPOT_TAINT = { key: 'pitwall.dev/spot', operator: 'Exists', effect: 'NoSchedule' } as const;

function placement(
  nodeClass: string,
  capacity: CapacityChoice,
): Pick<IPodSpec, 'nodeSelector' | 'tolerations' | 'affinity'> {
  const gpu = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' } as const;
  // On demand: any node of the class that is not spot, which the spot taint keeps this pod off (so a
  // cluster with no capacity labels at all, bare metal, needs only the class label).
  if (capacity === 'on-demand') return { nodeSelector: { [NODE_LABELS.nodeClass]: nodeClass }, tolerations: [gpu] };
  if (capacity === 'spot') {
    return {
      nodeSelector: { [NODE_LABELS.nodeClass]: nodeClass, [NODE_LABELS.capacityType]: 'SPOT' },
      tolerations: [gpu, SPOT_TAINT],
    };
  }
  // Spot first: either capacity, spot preferred by the scheduler (and by cluster-autoscaler's priorities).
  const spot = { matchExpressions: [{ key: NODE_LABELS.capacityType, operator: 'In' as const, values: ['SPOT'] }] };
  return {
    nodeSelector: { [NODE_LABELS.nodeClass]: nodeClass },
    tolerations: [gpu, SPOT_TAINT],
    affinity: {
      nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: spot }] },
    },
  };
}

function limits(amount: { cpu: string; memory: string; ephemeralStorage: string }, extra: Record<string, string> = {}) {
  const { cpu, memory, ephemeralStorage } = amount;
  const quantities = { cpu, memory, 'ephemeral-storage': ephemeralStorage, ...extra };
  return { requests: quantities, limits: quantities };
}
