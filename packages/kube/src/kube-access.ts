import { KubeConfig } from '@kubernetes/client-node';
import { JobRunnerRejectedError } from '@pitwall/domain';
import type { KubeConnection } from './eks-connection.js';

/** How the job runner reaches a cluster: a client configuration, and a version that changes when it must be rebuilt. */
export type KubeAccess = () => Promise<{ readonly config: KubeConfig; readonly version: string }>;

/** A server and a bearer token, as EKS gives them (EksConnection renews the token). */
export function tokenAccess(connection: () => Promise<KubeConnection>): KubeAccess {
  return async () => {
    const { server, caData, token, skipTLSVerify } = await connection();
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'pitwall', server, ...(caData ? { caData } : {}), skipTLSVerify: skipTLSVerify ?? false }],
      users: [{ name: 'pitwall', token }],
      contexts: [{ name: 'pitwall', cluster: 'pitwall', user: 'pitwall' }],
      currentContext: 'pitwall',
    });
    return { config, version: token };
  };
}

/**
 * Any Kubernetes cluster (an on-premises GPU cluster, say) through a kubeconfig file and one of its
 * contexts, the file's current one by default. Its credentials, exec plugins included, are the file's.
 */
export function kubeconfigAccess(options: { readonly path: string; readonly context?: string }): KubeAccess {
  let loaded: { config: KubeConfig; version: string } | undefined;
  return async () => {
    if (loaded) return loaded;
    const config = new KubeConfig();
    try {
      config.loadFromFile(options.path);
    } catch (error) {
      throw new JobRunnerRejectedError(`cannot read the kubeconfig ${options.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const contexts = config.getContexts().map((c) => c.name);
    const context = options.context ?? config.getCurrentContext();
    if (!contexts.includes(context)) {
      throw new JobRunnerRejectedError(
        `the kubeconfig ${options.path} has no context ${context || '(none set)'} (it has: ${contexts.join(', ') || 'none'})`,
      );
    }
    config.setCurrentContext(context);
    loaded = { config, version: `${options.path}#${context}` };
    return loaded;
  };
}
