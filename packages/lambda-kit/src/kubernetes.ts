import { EKSClient } from '@aws-sdk/client-eks';
import { clientOptions } from '@pitwall/adapters';
import type { JobRunner } from '@pitwall/domain';
import { EksConnection, KubernetesJobRunner, tokenAccess } from '@pitwall/kube';
import { ConfigurationError } from './config.js';
import type { AdapterFactory } from './control-plane.js';

/** The Jobs on the configured EKS cluster; only the functions that talk to the cluster import this. */
export const kubernetesJobRunner: AdapterFactory<JobRunner> = ({ config }) => {
  if (!config.cluster) {
    throw new ConfigurationError('this function needs PITWALL_EKS_CLUSTER and PITWALL_CLUSTER_SETTINGS');
  }
  const connection = new EksConnection(new EKSClient(clientOptions(config.aws)), config.cluster.name);
  return new KubernetesJobRunner(
    tokenAccess(() => connection.get()),
    config.cluster.settings,
  );
};
