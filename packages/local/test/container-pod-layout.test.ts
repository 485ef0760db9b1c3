import { describe, expect, it } from '@jest/globals';
import { parseClusterSettings } from '@pitwall/kube';
import { TEST_CLUSTER_SETTINGS } from '@pitwall/lambda-kit/testing';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { PodLayout } from '../src/executors/container-pod-layout.js';

const settings = parseClusterSettings(TEST_CLUSTER_SETTINGS);
const manifest = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  spec: { template: { spec: { containers: [] } } },
} satisfies IJob;

describe("a pod's holder", () => {
  it.each(['podman', 'docker'] as const)('on %s stops at once: `sleep` as PID 1 ignores SIGTERM', (engine) => {
    const layout = new PodLayout(engine, 'job-a', 'tag', '/tmp/job-a', manifest, {
      directory: '/tmp',
      settings,
      logcopyEnv: {},
    });
    const args = layout.holderArguments();
    // Without it every pod's removal waited out its whole stop timeout (5 s a pod, measured with podman events).
    expect(args[args.indexOf('--stop-signal') + 1]).toBe('SIGKILL');
    expect(args.slice(-2)).toEqual([settings.images.logcopy, 'infinity']);
  });
});
