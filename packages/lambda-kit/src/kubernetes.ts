import { EKSClient } from '@aws-sdk/client-eks';
import { type JobRunner, JobRunnerRejectedError } from '@pitwall/domain';
import { EksConnection, KubernetesJobRunner } from '@pitwall/kube';
import type { AdapterFactory } from './control-plane.js';

/** A function deployed without a cluster must say so rather than reach for one. */
const noCluster = async (): Promise<never> => {
  throw new JobRunnerRejectedError('no EKS cluster is configured for this function (PITWALL_EKS_CLUSTER)');
};

/** The Jobs on the configured EKS cluster; only the functions that talk to the cluster import this. */
export const kubernetesJobRunner: AdapterFactory<JobRunner> = ({ config }) => {
  if (!config.cluster) {
    return { list: noCluster, launch: noCluster, observe: noCluster, delete: noCluster, logTail: async () => '' };
  }
  const connection = new EksConnection(new EKSClient({ region: config.region }), config.cluster.name);
  return new KubernetesJobRunner(() => connection.get(), config.cluster.settings);
};
