import { EKSClient } from '@aws-sdk/client-eks';
import type { JobRunner } from '@pitwall/domain';
import { EksConnection, KubernetesJobRunner } from '@pitwall/kube';
import type { LambdaConfig } from './config.js';

/** The Jobs on the configured EKS cluster; only the functions that talk to the cluster import this. */
export function kubernetesJobRunner(config: LambdaConfig): JobRunner | undefined {
  if (!config.cluster) return undefined;
  const connection = new EksConnection(new EKSClient({ region: config.region }), config.cluster.name);
  return new KubernetesJobRunner(() => connection.get(), config.cluster.settings);
}
