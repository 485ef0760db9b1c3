import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { routesFile } from '@pitwall/carla-routes';
import { artifactKeys, parseCheckpoint, type WorkerJobSpec } from '@pitwall/domain';
import { ManualClock, MemoryArtifactStore } from '@pitwall/domain/testing';
import { InstantJobRunner } from '../src/index.js';

const spec: WorkerJobSpec = {
  name: 'team-sensors-1-w0-abc',
  submissionPk: 1,
  attempt: 1,
  worker: 0,
  teamPk: 1,
  teamName: 'Team',
  track: 'SENSORS',
  image: 'local/agent:good',
  routesKey: 'routes/validation.xml',
  routesSubset: '0-4',
  repetitions: 1,
  resume: false,
  capacity: 'on-demand',
  activeDeadlineSeconds: 3600,
  artifactPrefix: artifactKeys.worker(1, 0),
};

function runner(evaluationSeconds?: number) {
  const artifacts = new MemoryArtifactStore();
  artifacts.files.set('routes/validation.xml', readFileSync(routesFile('validation'), 'utf8'));
  const clock = new ManualClock();
  return { artifacts, clock, jobs: new InstantJobRunner(artifacts, { evaluationSeconds, clock }) };
}

describe('InstantJobRunner (the benchmarks’ executor)', () => {
  it('completes a Job at launch by default, with the worker’s whole checkpoint', async () => {
    const { artifacts, jobs } = runner();
    expect(await jobs.launch(spec)).toBe('created');
    expect(await jobs.launch(spec)).toBe('exists');
    expect((await jobs.observe(spec.name)).state).toBe('succeeded');
    const checkpoint = parseCheckpoint((await artifacts.get(artifactKeys.checkpoint(1, 0))) ?? '');
    expect(checkpoint?._checkpoint.progress).toEqual([5, 5]);
  });

  it('runs a Job for evaluationSeconds of its clock, then completes it', async () => {
    const { artifacts, clock, jobs } = runner(1800);
    await jobs.launch(spec);
    expect(await jobs.launch(spec)).toBe('exists');
    clock.advance(1799);
    expect((await jobs.observe(spec.name)).state).toBe('running');
    expect(await artifacts.get(artifactKeys.checkpoint(1, 0))).toBeUndefined();
    clock.advance(1);
    expect((await jobs.observe(spec.name)).state).toBe('succeeded');
    expect(await artifacts.get(artifactKeys.checkpoint(1, 0))).toContain('"progress":[5,5]');
  });

  it('completes a Job observed twice at once only once, and neither observer sees it missing', async () => {
    const { artifacts, clock, jobs } = runner(60);
    const writes: string[] = [];
    const put = artifacts.put.bind(artifacts);
    artifacts.put = async (key: string, body: string) => {
      writes.push(key);
      return put(key, body);
    };
    await jobs.launch(spec);
    clock.advance(60);
    const seen = await Promise.all([jobs.observe(spec.name), jobs.observe(spec.name)]);
    expect(seen.map((o) => o.state)).toEqual(['succeeded', 'succeeded']);
    expect(writes).toEqual([artifactKeys.checkpoint(1, 0)]);
  });

  it('deletes a running Job: it is missing and never completes', async () => {
    const { artifacts, clock, jobs } = runner(60);
    await jobs.launch(spec);
    expect((await jobs.list()).map((j) => j.name)).toEqual([spec.name]);
    expect(await jobs.delete(spec.name)).toBe('deleted');
    expect(await jobs.delete(spec.name)).toBe('absent');
    clock.advance(61);
    expect((await jobs.observe(spec.name)).state).toBe('missing');
    expect(await jobs.list()).toEqual([]);
    expect(await artifacts.get(artifactKeys.checkpoint(1, 0))).toBeUndefined();
  });
});
