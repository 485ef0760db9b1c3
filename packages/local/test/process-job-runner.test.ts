import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { routesFile } from '@pitwall/carla-routes';
import type { WorkerJobSpec } from '@pitwall/domain';
import { parseClusterSettings } from '@pitwall/kube';
import { buildLocalPrograms, ProcessJobRunner } from '@pitwall/local';

/**
 * A logcopy stand-in whose last flush, after SIGTERM, takes longer than the 5 s a local executor used to allow
 * (a real one's last pass under a loaded machine): the flush must land before the Job is reported done.
 */
const SLOW_FLUSH = `
import { writeFileSync } from 'node:fs';
const flag = process.env.FLUSH_FLAG;
if (process.argv[2] === 'restore') process.exit(0);
process.on('SIGTERM', () => setTimeout(() => { writeFileSync(flag, 'flushed'); process.exit(0); }, 6500));
setInterval(() => undefined, 60_000);
`;

const spec = (name: string): WorkerJobSpec => ({
  name,
  submissionPk: 1,
  attempt: 1,
  worker: 0,
  teamPk: 1,
  teamName: 'Team Flush',
  track: 'SENSORS',
  image: 'local/agent:good',
  routesKey: 'routes/routes_validation.xml',
  routesSubset: '0',
  repetitions: 1,
  resume: false,
  capacity: 'on-demand',
  activeDeadlineSeconds: 600,
  artifactPrefix: 'submissions/1/attempt-1/worker-0/',
});

describe('the process executor', () => {
  const directory = mkdtempSync(join(tmpdir(), 'pitwall-runner-'));
  let runner: ProcessJobRunner | undefined;
  afterAll(() => runner?.shutdown());

  it("gives logcopy the manifest's grace to flush after the agent is done, before the Job counts as done", async () => {
    const programs = await buildLocalPrograms(join(directory, 'bin'));
    const slowLogcopy = join(directory, 'slow-logcopy.mjs');
    writeFileSync(slowLogcopy, SLOW_FLUSH);
    const flag = join(directory, 'flushed');
    runner = new ProcessJobRunner({
      directory: join(directory, 'jobs'),
      settings: parseClusterSettings({
        instanceTypes: { SENSORS: 'local' },
        backoffLimit: 0,
        logcopyPeriodSeconds: 0.25,
        images: { simulator: 'local/sim:1', evaluator: 'local/eval:1', logcopy: 'local/logcopy:1' },
        logcopyCredentials: { roleArn: 'arn:aws:iam::000000000000:role/pitwall-logcopy' },
        region: 'us-east-1',
        awsEndpoints: { s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:1' },
        bucket: 'pitwall-artifacts',
        table: 'pitwall-submissions',
      }),
      programs: { ...programs, logcopy: slowLogcopy },
      routeFile: async () => readFileSync(routesFile('validation'), 'utf8'),
      logcopyEnv: { FLUSH_FLAG: flag },
      msPerKm: 1,
    });
    await runner.launch(spec('flush-job'));
    const deadline = Date.now() + 60_000;
    let state = (await runner.observe('flush-job')).state;
    while (state !== 'succeeded' && state !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = (await runner.observe('flush-job')).state;
    }
    expect(state).toBe('succeeded');
    expect(existsSync(flag)).toBe(true);
  }, 90_000);
});
