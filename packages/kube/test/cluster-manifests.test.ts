import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parse, parseAllDocuments } from 'yaml';
import { validateManifest } from '../src/index.js';

const CLUSTER = fileURLToPath(new URL('../../../cluster/', import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: manifests are walked freely
type Doc = Record<string, any>;

function documents(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(CLUSTER, file), 'utf8')).map((d) => d.toJS() as Doc);
}

const manifestFiles = ['evaluations.yaml', ...readdirSync(join(CLUSTER, 'addons')).map((f) => `addons/${f}`)];
const all = manifestFiles.flatMap((file) => documents(file).map((doc) => ({ file, doc })));
const find = (kind: string, name: string) =>
  all.find(({ doc }) => doc.kind === kind && doc.metadata?.name === name)?.doc;
const eksctl = documents('cluster.yaml')[0] as Doc;
const gpuGroups = (eksctl.managedNodeGroups as Doc[]).filter((g) => g.labels?.['pitwall.dev/pool'] === 'gpu');
const onDemandGroups = gpuGroups.filter((g) => !g.spot);
const spotGroups = gpuGroups.filter((g) => g.spot);

describe('cluster/ manifests', () => {
  it.each(all.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata?.name}`, doc]))(
    '%s is valid against the official schema',
    async (_name, doc) => {
      await expect(validateManifest(doc)).resolves.toBeUndefined();
    },
  );

  it('gives the launcher exactly what it needs: its Jobs and pods in the evaluations namespace, and a read of nodes', () => {
    const role = find('Role', 'pitwall-launcher');
    expect(role?.metadata.namespace).toBe('evaluations');
    expect(role?.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    // Cluster-wide, only a node's labels (its instance and capacity types, for the cost).
    const bindings = all.filter(
      ({ doc }) => doc.kind === 'ClusterRoleBinding' && JSON.stringify(doc).includes('pitwall-launcher'),
    );
    expect(bindings.map(({ doc }) => doc.roleRef.name)).toEqual(['pitwall-launcher-nodes']);
    expect(find('ClusterRole', 'pitwall-launcher-nodes')?.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    ]);
  });

  it('denies all ingress to evaluation pods and allows egress only to DNS and HTTPS', () => {
    const policy = find('NetworkPolicy', 'evaluation-pods');
    expect(policy?.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pitwall-worker' });
    expect(policy?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy?.spec.ingress).toEqual([]);
    const ports = ((policy?.spec.egress ?? []) as Doc[]).flatMap((rule) => rule.ports.map((p: Doc) => p.port));
    expect([...new Set(ports)].sort()).toEqual([443, 53]);
  });

  it('lets no evaluation pod reach the instance metadata service (169.254.169.254) through any egress rule', () => {
    const policy = find('NetworkPolicy', 'evaluation-pods');
    const blocks = ((policy?.spec.egress ?? []) as Doc[]).flatMap((rule) => (rule.to ?? []) as Doc[]);
    expect(blocks.length).toBeGreaterThan(0);
    for (const peer of blocks) {
      if (!peer.ipBlock) continue; // DNS: a pod selector, not an address range
      const [base, bits] = String(peer.ipBlock.cidr).split('/');
      const toNumber = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
      const mask = 2 ** 32 - 2 ** (32 - Number(bits));
      const inside = (ip: string) => (toNumber(ip) & mask) >>> 0 === (toNumber(base ?? '') & mask) >>> 0;
      const excepted = ((peer.ipBlock.except ?? []) as string[]).includes('169.254.169.254/32');
      expect(inside('169.254.169.254') && !excepted).toBe(false);
    }
  });

  it('runs the evaluation service account without a token or IRSA annotation', () => {
    const account = find('ServiceAccount', 'evaluation-worker');
    expect(account?.automountServiceAccountToken).toBe(false);
    expect(account?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
  });

  it('lets the DaemonSets that serve GPU nodes tolerate the GPU taint', () => {
    for (const name of ['nvidia-device-plugin', 'fluentd-cloudwatch']) {
      const tolerations = find('DaemonSet', name)?.spec.template.spec.tolerations as Doc[];
      expect(tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    }
  });

  it('ships the simulator, agent and logcopy logs to CloudWatch', () => {
    const config = find('ConfigMap', 'fluentd-config')?.data['fluent.conf'] as string;
    expect(config).toContain('@type cloudwatch_logs');
    expect(config).toMatch(/simulator\|agent\|logcopy/);
  });

  it('runs a cluster-autoscaler of the cluster’s minor version, spot groups first, discovering the GPU groups', () => {
    const container = find('Deployment', 'cluster-autoscaler')?.spec.template.spec.containers[0] as Doc;
    const minor = String(eksctl.metadata.version);
    expect(container.image).toMatch(new RegExp(`:v${minor.replace('.', '\\.')}\\.\\d+$`));
    expect(container.command).toContain('--expander=priority,least-waste');
    // The priorities, matched against each group's Auto Scaling group name as EKS makes it.
    const tiers = Object.entries(parse(find('ConfigMap', 'cluster-autoscaler-priority-expander')?.data.priorities))
      .map(([priority, patterns]) => ({
        priority: Number(priority),
        patterns: (patterns as string[]).map((p) => new RegExp(`^${p}$`)),
      }))
      .sort((a, b) => b.priority - a.priority);
    const first = (group: Doc) =>
      tiers.find((t) => t.patterns.some((p) => p.test(`eks-${group.name}-6ac7e1f2`)))?.priority;
    for (const spot of spotGroups)
      for (const onDemand of onDemandGroups) expect(first(spot)).toBeGreaterThan(first(onDemand) ?? 0);
    expect(container.command).toContain(
      `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${eksctl.metadata.name}`,
    );
  });
});

describe('cluster/cluster.yaml (eksctl)', () => {
  it('has OIDC for IRSA and network policy enforcement in the CNI', () => {
    expect(eksctl.iam.withOIDC).toBe(true);
    const cni = (eksctl.addons as Doc[]).find((a) => a.name === 'vpc-cni');
    expect(JSON.parse(cni?.configurationValues).enableNetworkPolicy).toBe('true');
  });

  it('has the four on-demand GPU node groups and a spot one per track class, each scaling up from zero', () => {
    expect(onDemandGroups.map((g) => g.instanceType)).toEqual(['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge', 'g5.12xlarge']);
    expect(spotGroups.map((g) => g.labels['pitwall.dev/node-class'])).toEqual(['g5.xlarge', 'g5.2xlarge']);
    for (const group of gpuGroups) {
      const capacity = group.spot ? 'SPOT' : 'ON_DEMAND';
      expect(group.tags['k8s.io/cluster-autoscaler/node-template/label/eks.amazonaws.com/capacityType']).toBe(capacity);
      expect(group.labels['pitwall.dev/node-class']).toBe(group.instanceType ?? group.instanceTypes[0]);
    }
    for (const group of spotGroups) {
      // Several pools of the same GPU (one A10G, g5), no smaller than the class: a reclaim in one is met by another.
      expect(group.instanceTypes.length).toBeGreaterThanOrEqual(3);
      expect(group.instanceTypes.every((t: string) => /^g5\.[248]?xlarge$/.test(t))).toBe(true);
      expect(group.taints).toContainEqual({ key: 'pitwall.dev/spot', value: 'true', effect: 'NoSchedule' });
      expect(group.tags['k8s.io/cluster-autoscaler/node-template/taint/pitwall.dev/spot']).toBe('true:NoSchedule');
    }
    for (const group of gpuGroups) {
      expect(group.minSize).toBe(0);
      expect(group.propagateASGTags).toBe(true);
      expect(group.taints).toContainEqual({ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' });
      const tags = group.tags as Record<string, string>;
      expect(tags['k8s.io/cluster-autoscaler/enabled']).toBe('true');
      expect(tags[`k8s.io/cluster-autoscaler/${eksctl.metadata.name}`]).toBe('owned');
      expect(tags['k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu']).toBe('true:NoSchedule');
      for (const [label, value] of Object.entries(group.labels as Record<string, string>)) {
        expect(tags[`k8s.io/cluster-autoscaler/node-template/label/${label}`]).toBe(value);
      }
      const gpus = group.instanceType === 'g5.12xlarge' ? '4' : '1';
      expect(tags['k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu']).toBe(gpus);
    }
  });

  it('keeps pods on the GPU nodes away from the instance metadata service, and IMDSv1 off', () => {
    for (const group of gpuGroups) {
      expect(group.disablePodIMDS).toBe(true);
      expect(group.disableIMDSv1).toBe(true);
    }
  });

  it('creates logcopy’s role without annotating the service account', () => {
    const logcopy = (eksctl.iam.serviceAccounts as Doc[]).find((s) => s.roleName === 'pitwall-logcopy');
    expect(logcopy?.roleOnly).toBe(true);
    const actions = ((logcopy?.attachPolicy.Statement ?? []) as Doc[]).flatMap((s) => s.Action);
    expect(actions.sort()).toEqual(['dynamodb:PutItem', 's3:GetObject', 's3:PutObject']);
  });
});
