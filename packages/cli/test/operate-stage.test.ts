import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createDocumentClient,
  createS3Client,
  DynamoDbSubmissionStore,
  S3ArtifactStore,
  submissionsTable,
} from '@pitwall/adapters';
import { artifactKeys } from '@pitwall/domain';
import { type RunningServer, S3RVER_CREDENTIALS, startDynamoDb, startS3 } from '@pitwall/emulators';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

// stages/ci.yml: us-west-2, table pitwall-submissions-ci, bucket pitwall-artifacts-ci. Its "AWS" is dynalite
// and s3rver here, reached the way the SDK reaches any endpoint it is told of.
let dynamo: RunningServer;
let s3: RunningServer;
const saved = { ...process.env };

beforeAll(async () => {
  [dynamo, s3] = await Promise.all([startDynamoDb(), startS3({ buckets: ['pitwall-artifacts-ci'] })]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  });
  const raw = new DynamoDBClient({ region: 'us-west-2', endpoint: dynamo.endpoint });
  await raw.send(new CreateTableCommand(submissionsTable('pitwall-submissions-ci')));
  raw.destroy();
  const store = new DynamoDbSubmissionStore(
    createDocumentClient({ region: 'us-west-2', endpoint: dynamo.endpoint }),
    'pitwall-submissions-ci',
  );
  const ref = {
    submissionPk: 41,
    challengePk: 2010,
    phasePk: 4001,
    attempt: 1,
    track: 'SENSORS',
    teamPk: 3,
    teamName: 'Team Deployed',
    imageUri: 'registry.example/agent:1',
    registeredAt: '2026-12-02T10:00:00Z',
    deadline: '2026-12-04T10:00:00Z',
  };
  await store.create({ ...ref, executionId: 'arn:aws:states:us-west-2:1:execution:x:41', at: ref.registeredAt });
  const plan = {
    strategy: 'balanced' as const,
    workerCount: 1,
    repetitions: 1,
    expectedRoutes: 2,
    routesKey: 'routes/routes_testing.xml',
    workers: [{ worker: 0, routeIds: ['0', '1'], routesSubset: '0-1', jobName: 'team-deployed-w0' }],
  };
  await store.patch(41, 1, { plan, progress: { done: 1, total: 2 } }, '2026-12-02T10:01:00Z');
  await store.transition(41, 1, 'queued', { at: '2026-12-02T10:01:00Z' });
  const artifacts = new S3ArtifactStore(
    createS3Client({ region: 'us-west-2', endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS }),
    'pitwall-artifacts-ci',
  );
  await artifacts.put(artifactKeys.log(41, 0, 'agent'), 'agent 0: evaluating routes 0-1\n', 'text/plain');
});
afterAll(async () => {
  process.env = { ...saved };
  await Promise.all([dynamo.close(), s3.close()]);
});

describe('the operator commands against a deployed stage (--stage)', () => {
  it('list and show read the stage’s table; EvalAI is asked only with a token', async () => {
    const list = captureIo();
    expect(await runCli(['list', '--stage', 'ci', '--json'], list)).toBe(0);
    expect(JSON.parse(list.stdout())).toEqual([
      expect.objectContaining({ pk: 41, team: 'Team Deployed', status: 'queued', progress: { done: 1, total: 2 } }),
    ]);
    const show = captureIo();
    expect(await runCli(['show', '41', '--stage', 'ci'], show)).toBe(0);
    expect(show.stdout()).toContain('EvalAI:   not asked (set EVALAI_TOKEN to the host token to see it)');
    expect(show.stdout()).toContain('worker 0: routes 0-1, job team-deployed-w0, no heartbeat yet');
  });

  it('logs reads the stage’s bucket', async () => {
    const io = captureIo();
    expect(await runCli(['logs', '41', '--stage', 'ci'], io)).toBe(0);
    expect(io.stdout()).toBe('== worker 0, agent ==\nagent 0: evaluating routes 0-1\n');
  });

  it('republish wants the host token, and refuses a run that has not ended, each in one line', async () => {
    const tokenless = captureIo();
    expect(await runCli(['republish', '41', '--stage', 'ci'], tokenless)).toBe(2);
    expect(tokenless.stderr()).toBe(
      "pitwall: stage ci: set EVALAI_TOKEN to the challenge's host token to write to EvalAI\n",
    );
    process.env.EVALAI_TOKEN = 'host-token';
    try {
      const early = captureIo();
      expect(await runCli(['republish', '41', '--stage', 'ci'], early)).toBe(2);
      expect(early.stderr()).toBe('pitwall: submission 41 is queued: its result is published when its run ends\n');
    } finally {
      delete process.env.EVALAI_TOKEN;
    }
  });

  it('says in one line what is wrong with a stage that is not there or not readable', async () => {
    const missing = captureIo();
    expect(await runCli(['list', '--stage', 'nope'], missing)).toBe(2);
    expect(missing.stderr()).toMatch(/^pitwall: stages\/nope\.yml: cannot be read \(ENOENT\)/);
    const unreachable = captureIo();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
    try {
      expect(await runCli(['list', '--stage', 'ci'], unreachable)).toBe(2);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    }
    expect(unreachable.stderr().split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^pitwall: stage ci: \w+: .*ECONNREFUSED/),
    ]);
  });
});
