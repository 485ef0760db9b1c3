import { z } from 'zod';

const quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, { error: 'must be a Kubernetes quantity' });
const resources = (cpu: string, memory: string) =>
  z.strictObject({ cpu: quantity.default(cpu), memory: quantity.default(memory) }).default({ cpu, memory });

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
  /** The IAM role logcopy assumes with its projected web-identity token. */
  logcopyRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/, { error: 'must be an IAM role ARN' }),
  region: z.string().min(1),
  bucket: z.string().min(3),
  table: z.string().min(3),
  /** Track codename → EC2 instance type its workers run on. */
  instanceTypes: z.record(z.string(), z.string().min(1)),
  /** Pod failures (and, with restartPolicy OnFailure, container restarts) before the Job fails. */
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
    .object({
      simulator: resources('3', '12Gi'),
      agent: resources('3', '16Gi'),
      logcopy: resources('250m', '256Mi'),
    })
    .default({
      simulator: { cpu: '3', memory: '12Gi' },
      agent: { cpu: '3', memory: '16Gi' },
      logcopy: { cpu: '250m', memory: '256Mi' },
    }),
});
export type ClusterSettings = z.infer<typeof clusterSettingsSchema>;

export function parseClusterSettings(raw: unknown): ClusterSettings {
  return clusterSettingsSchema.parse(raw);
}
