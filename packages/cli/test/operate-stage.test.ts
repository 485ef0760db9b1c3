import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbSubmissionStore,
  S3ArtifactStore,
  submissionsTable,
} from '@pitwall/adapters';
import { artifactKeys } from '@pitwall/domain';
import { EvalAiEmulator, type RunningServer, S3RVER_CREDENTIALS, startDynamoDb, startS3 } from '@pitwall/emulators';
import { createSqsServer } from 'local-aws-sqs';
import { parse, stringify } from 'yaml';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

// stages/ci.yml: us-west-2, table pitwall-submissions-ci, bucket pitwall-artifacts-ci. Its "AWS" is dynalite
// and s3rver here, reached the way the SDK reaches any endpoint it is told of.
let dynamo: RunningServer;
let s3: RunningServer;
let sqs: Awaited<ReturnType<typeof createSqsServer>>;
let sqsEndpoint = '';
const saved = { ...process.env };
// For the commands that write to EvalAI: the ci stage with its EvalAI an emulator of challenge 2010.
const evalai = new EvalAiEmulator({
  challengePk: 2010,
  phases: [{ pk: 4001, codename: 'sensors', splits: ['leaderboard'] }],
  labels: ['Driving score'],
  hostToken: 'host-token',
  participantToken: 'participant-token',
  allowResumingSubmissions: true,
});
const emulatedStage = join(tmpdir(), `pitwall-emulated-${process.pid}.yml`);
let store: DynamoDbSubmissionStore;

beforeAll(async () => {
  [dynamo, s3] = await Promise.all([startDynamoDb(), startS3({ buckets: ['pitwall-artifacts-ci'] })]);
  sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: 'us-west-2' });
  sqsEndpoint = `http://127.0.0.1:${(sqs.address() as { port: number }).port}`;
  const ci = parse(readFileSync(new URL('../../../stages/ci.yml', import.meta.url), 'utf8'));
  writeFileSync(emulatedStage, stringify({ ...ci, evalai: { ...ci.evalai, apiServer: await evalai.start() } }));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  });
  const raw = new DynamoDBClient({ region: 'us-west-2', endpoint: dynamo.endpoint });
  await raw.send(new CreateTableCommand(submissionsTable('pitwall-submissions-ci')));
  raw.destroy();
  store = new DynamoDbSubmissionStore(
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
  // Two finished runs of one team and one of another: the board keeps each team's best.
  for (const [pk, team, score] of [
    [50, 'Team Deployed', 41.5],
    [51, 'Team Deployed', 62.25],
    [52, 'Team Other', 55],
  ] as const) {
    const teamPk = team === 'Team Deployed' ? 3 : 4;
    await store.create({
      ...ref,
      submissionPk: pk,
      teamPk,
      teamName: team,
      executionId: `e-${pk}`,
      at: ref.registeredAt,
    });
    await store.transition(pk, 1, 'queued', { at: '2026-12-02T10:01:00Z' });
    await store.transition(pk, 1, 'running', { at: '2026-12-02T10:02:00Z' });
    await store.transition(pk, 1, 'finished', { at: '2026-12-02T11:00:00Z' });
    const result = [{ split: 'leaderboard', show_to_participant: true, accuracies: { 'Driving score': score } }];
    await artifacts.put(artifactKeys.evalai(pk, 'result.json'), JSON.stringify(result), 'application/json');
  }
});
afterAll(async () => {
  process.env = { ...saved };
  await Promise.all([dynamo.close(), s3.close(), evalai.close()]);
  await new Promise<void>((resolve) => sqs.close(() => resolve()));
});

describe('the operator commands against a deployed stage (--stage)', () => {
  it('list and show read the stage’s table; EvalAI is asked only with a token', async () => {
    const list = captureIo();
    expect(await runCli(['list', '--stage', 'ci', '--json', '--status', 'queued', '--phase', '4001'], list)).toBe(0);
    expect(JSON.parse(list.stdout())).toEqual([
      expect.objectContaining({ pk: 41, team: 'Team Deployed', status: 'queued', progress: { done: 1, total: 2 } }),
    ]);
    const otherPhase = captureIo();
    expect(await runCli(['list', '--stage', 'ci', '--json', '--phase', '4002'], otherPhase)).toBe(0);
    expect(JSON.parse(otherPhase.stdout())).toEqual([]);
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

  it('leaderboard reads the results the stage published: the best per team, best first', async () => {
    const io = captureIo();
    expect(await runCli(['leaderboard', '--stage', 'ci', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout())).toEqual([
      { submissionPk: 51, teamName: 'Team Deployed', phasePk: 4001, values: { 'Driving score': 62.25 }, rank: 1 },
      { submissionPk: 52, teamName: 'Team Other', phasePk: 4001, values: { 'Driving score': 55 }, rank: 2 },
    ]);
    const table = captureIo();
    expect(await runCli(['leaderboard', '--stage', 'ci'], table)).toBe(0);
    expect(table.stdout()).toMatch(/│ 1 +│ Team Deployed +│ 62\.25 /);
  });

  it('resume asks the stage’s EvalAI to resume a failed run, with the host token', async () => {
    const failed = evalai.createSubmission({ phasePk: 4001, teamPk: 5, teamName: 'Team Five', imageUri: 'x:1' });
    evalai.get(failed.id).status = 'failed';
    await store.create({
      ...{ challengePk: 2010, phasePk: 4001, attempt: 1, track: 'SENSORS', teamPk: 5, teamName: 'Team Five' },
      submissionPk: failed.id,
      imageUri: 'x:1',
      registeredAt: '2026-12-02T10:00:00Z',
      deadline: '2026-12-04T10:00:00Z',
      executionId: 'e-failed',
      at: '2026-12-02T10:00:00Z',
    });
    await store.transition(failed.id, 1, 'failed', { at: '2026-12-02T10:05:00Z', reason: 'The simulator crashed.' });
    process.env.EVALAI_TOKEN = 'host-token';
    try {
      const io = captureIo();
      expect(await runCli(['resume', String(failed.id), '--stage', emulatedStage], io)).toBe(0);
      expect(evalai.get(failed.id).status).toBe('resuming');
    } finally {
      delete process.env.EVALAI_TOKEN;
    }
  });

  it('cancel cancels as the hosts on the stage’s EvalAI, and refuses one that has ended', async () => {
    const running = evalai.createSubmission({ phasePk: 4001, teamPk: 7, teamName: 'Team Seven', imageUri: 'x:1' });
    evalai.get(running.id).status = 'running';
    process.env.EVALAI_TOKEN = 'host-token';
    try {
      const io = captureIo();
      expect(await runCli(['cancel', '--submission', String(running.id), '--stage', emulatedStage], io)).toBe(0);
      expect(evalai.get(running.id).status).toBe('cancelled');
      const again = captureIo();
      expect(await runCli(['cancel', '--submission', String(running.id), '--stage', emulatedStage], again)).toBe(2);
      expect(again.stderr()).toBe(
        `pitwall: submission ${running.id} is cancelled on EvalAI: there is nothing to cancel\n`,
      );
    } finally {
      delete process.env.EVALAI_TOKEN;
    }
  });

  it('requeue sends a submission’s message to the queue the stage’s ingest service made', async () => {
    const name = emulatedStage
      .split('/')
      .at(-1)
      ?.replace(/\.yml$/, '');
    const client = createSqsClient({ region: 'us-west-2', endpoint: sqsEndpoint, credentials: S3RVER_CREDENTIALS });
    const url = (await client.send(new CreateQueueCommand({ QueueName: `pitwall-${name}-submissions` }))).QueueUrl;
    const lost = evalai.createSubmission({ phasePk: 4001, teamPk: 6, teamName: 'Team Six', imageUri: 'x:1' });
    process.env.EVALAI_TOKEN = 'host-token';
    try {
      const io = captureIo();
      expect(await runCli(['requeue', String(lost.id), '--stage', emulatedStage], io)).toBe(0);
      expect(io.stdout()).toBe(`submission ${lost.id}: its message sent to the queue again (attempt 1)\n`);
    } finally {
      delete process.env.EVALAI_TOKEN;
    }
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(Messages?.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([
      // As EvalAI's own sender writes it: challenge and phase as strings.
      { challenge_pk: '2010', phase_pk: '4001', submission_pk: lost.id },
    ]);
    client.destroy();
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
