import { isIP } from 'node:net';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { LABELS } from './worker-job.js';

/**
 * The NetworkPolicy for worker pods whose stores are one machine's (`pitwall serve` on a cluster): nothing
 * in, and out only to the stores' signed gateways on that address. A NetworkPolicy sees pods, not
 * containers: the agent shares logcopy's network, so it reaches the gateways too, and their signature check
 * (logcopy's key, from its Secret) is what keeps it out. Undefined for an address that is not an IP, which a
 * policy cannot name.
 */
export function storesNetworkPolicy(
  namespace: string,
  address: string,
  ports: readonly number[],
): INetworkPolicy | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'pitwall-worker-stores', namespace, labels: { 'app.kubernetes.io/part-of': 'pitwall' } },
    spec: {
      podSelector: { matchLabels: { [LABELS.app]: 'pitwall-worker' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        {
          to: [{ ipBlock: { cidr: `${address}/${family === 4 ? 32 : 128}` } }],
          ports: ports.map((port) => ({ protocol: 'TCP', port })),
        },
      ],
    },
  };
}
