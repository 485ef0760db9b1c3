import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildWorkerJob, InvalidManifestError, parseClusterSettings, validateManifest } from '../src/index.js';
import { settings, spec } from './support/fixtures.js';

const containers = (job: ReturnType<typeof buildWorkerJob>) => {
  const pod = job.spec?.template.spec;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
};
const byName = (job: ReturnType<typeof buildWorkerJob>, name: string) => containers(job).find((c) => c.name === name);

describe('buildWorkerJob', () => {
  it('is a valid Job by the official schema and the API server name rules', async () => {
    await expect(validateManifest(buildWorkerJob(spec(), settings))).resolves.toBeUndefined();
  });

  it('runs the agent, with the simulator and logcopy as its sidecars, and the agent alone on a GPU', () => {
    const job = buildWorkerJob(spec(), settings);
    const pod = job.spec?.template.spec;
    expect(pod?.containers.map((c) => c.name)).toEqual(['agent']);
    expect(pod?.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['evaluator-files', undefined],
      ['restore', undefined],
      ['logcopy', 'Always'],
      ['simulator', 'Always'],
    ]);
    expect(byName(job, 'agent')?.resources?.limits).toMatchObject({ 'nvidia.com/gpu': '1' });
    expect(byName(job, 'simulator')?.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(byName(job, 'agent')?.image).toBe(spec().image);
    const agentEnv = Object.fromEntries((byName(job, 'agent')?.env ?? []).map((e) => [e.name, e.value]));
    expect(agentEnv).toMatchObject({
      ROUTES_SUBSET: '0-4',
      RESUME: '0',
      WORKER_ID: '2',
      CHECKPOINT_ENDPOINT: '/tmp/agent/checkpoint.json',
    });
    expect(agentEnv.ROUTES).toBe('/workspace/leaderboard-code/data/routes_testing.xml');
  });

  it('schedules on the track’s GPU nodes with a deadline, a TTL and a priority', () => {
    const job = buildWorkerJob(spec({ track: 'MAP' }), settings);
    const pod = job.spec?.template.spec;
    expect(pod?.nodeSelector).toEqual({ 'pitwall.dev/node-class': 'g5.xlarge' }); // the spot taint keeps it on demand
    expect(pod?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod?.priorityClassName).toBe('pitwall-evaluation');
    expect(job.spec).toMatchObject({ backoffLimit: 4, activeDeadlineSeconds: 86_700, ttlSecondsAfterFinished: 21_600 });
  });

  it('counts a crash against the backoff limit and a lost node not: Never, with podFailurePolicy', async () => {
    const job = buildWorkerJob(spec(), settings);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.podFailurePolicy).toEqual({
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    });
    expect(job.spec?.podReplacementPolicy).toBe('Failed'); // the only one podFailurePolicy allows
    // The schema's rule, checked: podFailurePolicy is refused beside OnFailure.
    const onFailure = structuredClone(job);
    (onFailure.spec?.template.spec as { restartPolicy: string }).restartPolicy = 'OnFailure';
    await expect(validateManifest(onFailure)).rejects.toThrow(InvalidManifestError);
  });

  it('runs a spot track on spot nodes, and a spot-first track on either, spot preferred', () => {
    const spot = buildWorkerJob(spec({ track: 'SENSORS', capacity: 'spot' }), settings).spec?.template.spec;
    expect(spot?.nodeSelector).toEqual({
      'pitwall.dev/node-class': 'g5.2xlarge',
      'eks.amazonaws.com/capacityType': 'SPOT',
    });
    expect(spot?.tolerations).toContainEqual({ key: 'pitwall.dev/spot', operator: 'Exists', effect: 'NoSchedule' });
    const first = buildWorkerJob(spec({ track: 'MAP', capacity: 'spot-first' }), settings).spec?.template.spec;
    expect(first?.nodeSelector).toEqual({ 'pitwall.dev/node-class': 'g5.xlarge' });
    expect(first?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        preference: { matchExpressions: [{ key: 'eks.amazonaws.com/capacityType', operator: 'In', values: ['SPOT'] }] },
      },
    ]);
  });

  it('tells a resumed worker to continue from its checkpoint', () => {
    const job = buildWorkerJob(spec({ resume: true, attempt: 2 }), settings);
    expect(byName(job, 'agent')?.env).toContainEqual({ name: 'RESUME', value: '1' });
    expect(job.metadata?.labels?.['pitwall.dev/attempt']).toBe('2');
  });

  it('refuses a track without an instance type', () => {
    expect(() => buildWorkerJob(spec({ track: 'UNKNOWN' }), settings)).toThrow(
      'no instance type is configured for track UNKNOWN',
    );
  });
});

describe('the untrusted agent is locked down', () => {
  const job = buildWorkerJob(spec(), settings);
  const pod = job.spec?.template.spec;

  it('mounts no service-account token and no service links', () => {
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.enableServiceLinks).toBe(false);
    expect(pod?.hostNetwork).toBeUndefined();
  });

  it('gives cloud credentials to logcopy (and its restore step) only', () => {
    const withToken = containers(job).filter((c) => c.volumeMounts?.some((m) => m.name === 'aws-token'));
    expect(withToken.map((c) => c.name).sort()).toEqual(['logcopy', 'restore']);
    for (const name of ['agent', 'simulator', 'evaluator-files']) {
      const container = byName(job, name);
      expect(container?.envFrom).toBeUndefined();
      for (const variable of container?.env ?? []) {
        expect(variable.name).not.toMatch(/AWS|TOKEN|SECRET|PASSWORD|KEY|EVALAI/);
        expect(variable.valueFrom).toBeUndefined();
      }
    }
    expect(pod?.volumes?.some((v) => v.secret || v.hostPath)).toBe(false);
  });

  it('on a cluster that is not EKS, gives logcopy (and its restore step) alone a Secret of keys, and no token', async () => {
    const secret = buildWorkerJob(spec(), { ...settings, logcopyCredentials: { secretName: 'pitwall-stores' } });
    await expect(validateManifest(secret)).resolves.toBeUndefined();
    expect(secret.spec?.template.spec?.volumes?.some((v) => v.name === 'aws-token')).toBe(false);
    for (const container of containers(secret)) {
      const logcopy = ['logcopy', 'restore'].includes(container.name);
      expect(container.envFrom).toEqual(logcopy ? [{ secretRef: { name: 'pitwall-stores' } }] : undefined);
      expect(container.volumeMounts?.some((m) => m.name === 'aws-token')).toBe(false);
      expect((container.env ?? []).map((e) => e.name)).not.toContain('AWS_ROLE_ARN');
    }
    expect(() => parseClusterSettings({ ...settings, logcopyCredentials: { secretName: 'Not A Name' } })).toThrow(
      'must be a Kubernetes name',
    );
  });

  it('never carries an EvalAI token', () => {
    expect(JSON.stringify(job)).not.toMatch(/EVALAI|evalai|Bearer/);
  });

  it('lets no container escalate privileges, keep capabilities or run unbounded', () => {
    for (const container of containers(job)) {
      expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(container.securityContext?.privileged).toBe(false);
      expect(container.securityContext?.capabilities?.drop).toEqual(['ALL']);
      expect(container.resources?.requests?.cpu).toBeDefined();
      expect(container.resources?.requests?.memory).toBeDefined();
      expect(container.resources?.limits?.cpu).toBeDefined();
      expect(container.resources?.limits?.memory).toBeDefined();
    }
    expect(pod?.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
  });

  it('bounds every container’s disk and every scratch volume, so one agent cannot fill the node', () => {
    const job = buildWorkerJob(spec(), settings);
    for (const container of containers(job)) {
      expect(container.resources?.requests?.['ephemeral-storage']).toBeDefined();
      expect(container.resources?.limits?.['ephemeral-storage']).toBe(
        container.resources?.requests?.['ephemeral-storage'],
      );
    }
    expect(byName(job, 'agent')?.resources?.limits?.['ephemeral-storage']).toBe('20Gi');
    const scratch = (job.spec?.template.spec?.volumes ?? []).filter((v) => v.emptyDir);
    expect(scratch.map((v) => v.name).sort()).toEqual(['checkpoint', 'evaluator', 'gpu', 'logs', 'status']);
    for (const volume of scratch) expect(volume.emptyDir?.sizeLimit).toBeDefined();
    expect(scratch.find((v) => v.name === 'logs')?.emptyDir?.sizeLimit).toBe('8Gi');
  });

  it('sends logcopy to S3 and DynamoDB through the VPC endpoints the NetworkPolicy admits', () => {
    const variables = Object.fromEntries((byName(job, 'logcopy')?.env ?? []).map((v) => [v.name, v.value]));
    expect(variables.S3_ENDPOINT).toBe(settings.awsEndpoints.s3);
    expect(variables.DYNAMODB_ENDPOINT).toBe(settings.awsEndpoints.dynamodb);
    expect(() => parseClusterSettings({ ...settings, awsEndpoints: { s3: settings.awsEndpoints.s3 } })).toThrow();
  });

  it('takes the disk bounds from the stage’s settings', () => {
    const custom = parseClusterSettings({
      ...settings,
      resources: { agent: { cpu: '3', memory: '16Gi', ephemeralStorage: '50Gi' } },
      scratchLimits: { logs: '2Gi' },
    });
    const job = buildWorkerJob(spec(), custom);
    expect(byName(job, 'agent')?.resources?.limits?.['ephemeral-storage']).toBe('50Gi');
    expect(job.spec?.template.spec?.volumes?.find((v) => v.name === 'logs')?.emptyDir?.sizeLimit).toBe('2Gi');
  });

  it('mounts the official evaluator code read-only into the agent', () => {
    expect(byName(job, 'agent')?.volumeMounts).toContainEqual({
      name: 'evaluator',
      mountPath: '/workspace/leaderboard-code',
      readOnly: true,
    });
  });
});

describe('hostile inputs', () => {
  it.each([
    ['symbols', '?!@#$%^&*() «ÉQUIPE» 東京 🚗'],
    ['a 500-character name', 'x'.repeat(500)],
    ['an empty name', ''],
    ['label-breaking characters', '-_.team_.-'],
  ])('still gives a valid Job for a team name with %s', async (_case, teamName) => {
    await expect(validateManifest(buildWorkerJob(spec({ teamName }), settings))).resolves.toBeUndefined();
  });

  it('handles a huge routes subset', async () => {
    const routesSubset = Array.from({ length: 2000 }, (_, i) => String(i * 2)).join(',');
    const job = buildWorkerJob(spec({ routesSubset }), settings);
    await expect(validateManifest(job)).resolves.toBeUndefined();
    expect(byName(job, 'agent')?.env).toContainEqual({ name: 'ROUTES_SUBSET', value: routesSubset });
  });

  it('is valid for any team name and ids (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 1 }),
        fc.nat({ max: 63 }),
        async (teamName, submissionPk, worker) => {
          await validateManifest(buildWorkerJob(spec({ teamName, submissionPk, worker }), settings));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('validateManifest', () => {
  it('rejects what the API server would', async () => {
    const job = buildWorkerJob(spec(), settings);
    await expect(validateManifest({ ...job, metadata: { ...job.metadata, name: 'Team?Alpha' } })).rejects.toThrow(
      InvalidManifestError,
    );
    await expect(
      validateManifest({ ...job, metadata: { ...job.metadata, labels: { 'pitwall.dev/team': 'a b' } } }),
    ).rejects.toThrow('label pitwall.dev/team="a b" is invalid');
    const noContainers = structuredClone(job);
    (noContainers.spec?.template.spec as { containers?: unknown }).containers = undefined;
    await expect(validateManifest(noContainers)).rejects.toThrow('must have required property');
  });
});
