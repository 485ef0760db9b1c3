import { describe, expect, it } from '@jest/globals';
import { storesNetworkPolicy, validateManifest } from '../src/index.js';

describe('the NetworkPolicy of worker pods whose stores are one machine’s', () => {
  it('lets the worker pods reach only the stores’ gateways, and nothing reach them', async () => {
    const policy = storesNetworkPolicy('evaluations', '10.0.0.7', [41000, 41001]);
    await validateManifest(policy); // the official schema
    expect(policy?.spec?.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pitwall-worker' });
    expect(policy?.spec?.ingress).toEqual([]);
    expect(policy?.spec?.egress).toEqual([
      {
        to: [{ ipBlock: { cidr: '10.0.0.7/32' } }],
        ports: [
          { protocol: 'TCP', port: 41000 },
          { protocol: 'TCP', port: 41001 },
        ],
      },
    ]);
    expect(storesNetworkPolicy('evaluations', 'fd00::7', [1])?.spec?.egress?.[0]?.to?.[0]?.ipBlock?.cidr).toBe(
      'fd00::7/128',
    );
  });

  it('is none for a host name, which a policy cannot name', () => {
    expect(storesNetworkPolicy('evaluations', 'stores.lab', [41000])).toBeUndefined();
  });
});
