import { z } from 'zod';

const quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, { error: 'must be a Kubernetes quantity' });
/** A container's requests and limits (equal): CPU, memory, and the node disk it may write outside its volumes. */
const resources = (cpu: string, memory: string, ephemeralStorage: string) =>
  z
    .strictObject({
      cpu: quantity.default(cpu),
      memory: quantity.default(memory),
      ephemeralStorage: quantity.default(ephemeralStorage),
    })
    // Parsed like a given one, so each default is written once.
    .prefault({});

/** A Kubernetes object's name (a DNS subdomain), such as a Secret's. */
export const kubernetesNameSchema = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, {
    error: 'must be a Kubernetes name (lower-case letters, digits, - and .)',
  });

/** How evaluation Jobs are laid out on the cluster: parsed once at start, like the challenge config. */
export const clusterSettingsSchema = z.strictObject({
  namespace: z.string().default('evaluations'),
  /** A service account without the IRSA annotation: only logcopy gets a token, through a projected volume. */
  serviceAccountName: z.string().default('evaluation-worker'),
  priorityClassName: z.string().default('pitwall-evaluation'),
  images: z.strictObject({
    /** The CARLA server. */
    simulator: z.string().min(1),
    /** The official leaderboard code and the private route files, copied into the pod at start. */
    evaluator: z.string().min(1),
    logcopy: z.string().min(1),
  }),
  /**
   * How logcopy authenticates to S3 and DynamoDB: on EKS, the IAM role it assumes with its projected
   * web-identity token; on any other cluster, a Secret in the namespace whose keys (AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY) become its environment.
   */
  logcopyCredentials: z.union([
    z.strictObject({
      roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/, { error: 'must be an IAM role ARN' }),
    }),
    z.strictObject({ secretName: kubernetesNameSchema }),
  ]),
  region: z.string().min(1),
  /**
   * Where logcopy reaches S3 and DynamoDB: the interface endpoints of `cluster/endpoints.yaml`, the only
   * HTTPS destinations the evaluation pods' NetworkPolicy admits (STS resolves to its own through private DNS).
   */
  awsEndpoints: z.strictObject({ s3: z.url(), dynamodb: z.url() }),
  bucket: z.string().min(3),
  table: z.string().min(3),
  /**
   * Track codename → the node class its workers run on: the `pitwall.dev/node-class` label of its node
   * groups (`cluster/cluster.yaml`), named after the smallest instance type of the class.
   */
  instanceTypes: z.record(z.string(), z.string().min(1)),
  /**
   * Crashes of a worker before its Job fails: pod failures, each a fresh pod resuming from the uploaded
   * checkpoint; a node taken away (a spot reclaim, a drain) is not one (podFailurePolicy ignores it).
   */
  backoffLimit: z.number().int().min(0).max(20).default(4),
  /** Kubernetes deletes finished Jobs after this, should the control plane not have. */
  ttlSecondsAfterFinished: z
    .number()
    .int()
    .min(60)
    .default(6 * 3600),
  logcopyPeriodSeconds: z.number().positive().default(30),
  /** The most of one file logcopy uploads: a longer agent log keeps its last bytes, marked as cut. */
  logcopyMaxUploadBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  resources: z
    .strictObject({
      simulator: resources('3', '12Gi', '10Gi'),
      agent: resources('3', '16Gi', '20Gi'),
      logcopy: resources('250m', '256Mi', '1Gi'),
    })
    .prefault({}),
  /**
   * The most processes (threads included) each of a pod's containers may run, so a fork bomb stays in its
   * container. The local container executors apply it per container; on Kubernetes it is the nodes'
   * kubelet `podPidsLimit`, for the whole pod.
   */
  pidsLimit: z.number().int().min(64).default(4096),
  /**
   * The most each of the pod's scratch volumes may hold (emptyDir sizeLimit): past it the kubelet evicts
   * this pod alone, instead of the node running out of disk and evicting other teams' pods.
   */
  scratchLimits: z
    .strictObject({
      evaluator: quantity.default('4Gi'),
      checkpoint: quantity.default('1Gi'),
      status: quantity.default('64Mi'),
      logs: quantity.default('8Gi'),
      gpu: quantity.default('1Mi'),
    })
    .prefault({}),
});
export type ClusterSettings = z.infer<typeof clusterSettingsSchema>;

/**
 * How Jobs are laid out on a cluster that a control plane on one machine drives (`pitwall serve`): the
 * images, the stores and logcopy's credentials are that machine's, the rest is the cluster's.
 */
export const clusterLayoutSchema = clusterSettingsSchema.omit({
  images: true,
  logcopyCredentials: true,
  region: true,
  bucket: true,
  table: true,
  awsEndpoints: true,
});
export type ClusterLayout = z.input<typeof clusterLayoutSchema>;

export function parseClusterSettings(raw: unknown): ClusterSettings {
  return clusterSettingsSchema.parse(raw);
}
