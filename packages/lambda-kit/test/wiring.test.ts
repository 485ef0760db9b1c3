import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { submissionsTable } from '@pitwall/adapters';
import { EvalAiNotHostError } from '@pitwall/domain';
import { EvalAiEmulator, type RunningServer, S3RVER_CREDENTIALS, startDynamoDb, startS3 } from '@pitwall/emulators';
import { evalAiHost } from '../src/evalai.js';
import {
  buildPlane,
  ConfigurationError,
  type LambdaConfig,
  lambdaHandler,
  type RawHandler,
  readLambdaConfig,
} from '../src/index.js';
import { kubernetesJobRunner } from '../src/kubernetes.js';
import { countSubmissionEnded, logger, recordAttemptCost } from '../src/observability.js';
import { s3ArtifactStore } from '../src/s3.js';
import { sqsSubmissionQueue } from '../src/sqs.js';
import { stepFunctionsExecutions } from '../src/step-functions.js';

let s3: RunningServer;
let dynamo: RunningServer;
let config: LambdaConfig;
const emulator = new EvalAiEmulator({
  challengePk: 5,
  phases: [{ pk: 9, codename: 'sensors', splits: ['leaderboard'] }],
  labels: ['Driving score'],
  hostToken: 'host-token',
});

beforeAll(async () => {
  // As a Lambda's role would, the credential chain supplies the key: here, the one s3rver accepts.
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  [s3, dynamo] = await Promise.all([startS3({ buckets: ['pitwall-artifacts'] }), startDynamoDb()]);
  const raw = new DynamoDBClient({
    region: 'eu-west-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await raw.send(new CreateTableCommand(submissionsTable('pitwall-submissions')));
  raw.destroy();
  config = readLambdaConfig({
    PITWALL_TABLE: 'pitwall-submissions',
    PITWALL_IDEMPOTENCY_TABLE: 'pitwall-idempotency',
    PITWALL_BUCKET: 'pitwall-artifacts',
    EVALAI_API_SERVER: await emulator.start(),
    EVALAI_TOKEN: 'host-token',
    PITWALL_CHALLENGE_CONFIG: JSON.stringify({
      challengePk: 5,
      phases: { 9: { track: 'SENSORS', routesKey: 'routes/s.xml', workers: 2, timeLimitSeconds: 600 } },
      allowedImages: ['^registry\\.example/'],
    }),
    PITWALL_DYNAMODB_ENDPOINT: dynamo.endpoint,
    PITWALL_S3_ENDPOINT: s3.endpoint,
  });
});
afterAll(async () => {
  await Promise.all([s3.close(), dynamo.close(), emulator.close()]);
});

/** The EMF lines (parsed) that `emit` writes to stdout or stderr and that contain `marker`. */
function metricLines(marker: string, emit: () => void) {
  const written: string[] = [];
  const writes = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    emit();
  } finally {
    for (const write of writes) write.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.includes(marker))
    .map((line) => JSON.parse(line));
}

describe('buildPlane', () => {
  it('builds the core ports and only the ports it is given', async () => {
    const plane = await buildPlane(config, { artifacts: s3ArtifactStore });
    expect(Object.keys(plane).sort()).toEqual(['admissions', 'artifacts', 'clock', 'config', 'store']);
    expect(plane.config.challengePk).toBe(5);
  });

  it('wires working adapters: S3 on the local server, EvalAI with the token and the shared budget', async () => {
    const plane = await buildPlane(config, { artifacts: s3ArtifactStore, evalai: evalAiHost });
    await plane.artifacts.put('notes/wiring.txt', 'hello', 'text/plain');
    expect(await plane.artifacts.get('notes/wiring.txt')).toBe('hello');
    const submission = emulator.createSubmission({
      phasePk: 9,
      teamPk: 4,
      teamName: 'Team',
      imageUri: 'registry.example/a:1',
    });
    expect(await plane.evalai.getSubmission(submission.id)).toMatchObject({ id: submission.id, status: 'submitted' });
    expect(await plane.store.get(submission.id)).toBeUndefined();
  });

  it('refuses to wire the cluster or the executions for a function not configured with them, naming what it needs', async () => {
    await expect(buildPlane(config, { jobs: kubernetesJobRunner })).rejects.toThrow(
      new ConfigurationError('this function needs PITWALL_EKS_CLUSTER and PITWALL_CLUSTER_SETTINGS'),
    );
    await expect(buildPlane(config, { executions: stepFunctionsExecutions })).rejects.toThrow(
      new ConfigurationError('this function needs PITWALL_STATE_MACHINE_ARN'),
    );
    const withArn = { ...config, stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:pitwall' };
    const plane = await buildPlane(withArn, { starter: stepFunctionsExecutions });
    expect(plane.starter.constructor.name).toBe('StepFunctionsExecutions');
  });
});

describe('the submissions queue', () => {
  it('refuses to wire the queue without its ARN', async () => {
    await expect(buildPlane(config, { queue: sqsSubmissionQueue })).rejects.toThrow('set PITWALL_QUEUE_ARN');
    const plane = await buildPlane(
      { ...config, queueArn: 'arn:aws:sqs:eu-west-1:123456789012:q' },
      { queue: sqsSubmissionQueue },
    );
    expect(plane.queue.constructor.name).toBe('SqsSubmissionQueue');
  });
});

describe('lambdaHandler wiring types', () => {
  const needsArtifacts: RawHandler<string, 'artifacts'> =
    ({ plane }) =>
    async () =>
      (await plane.artifacts.get('x')) ?? '';

  it('accepts exactly the ports the handler declares', () => {
    expect(typeof lambdaHandler(needsArtifacts, { artifacts: s3ArtifactStore })).toBe('function');
    // @ts-expect-error a declared port that is not wired
    lambdaHandler(needsArtifacts, {});
    // @ts-expect-error a port the handler does not declare: its client would be bundled for nothing
    lambdaHandler(needsArtifacts, { artifacts: s3ArtifactStore, evalai: evalAiHost });
  });
});

describe('lambdaHandler', () => {
  it('writes no warning for an invocation that adds no metric, as most tasks do', async () => {
    const quiet: RawHandler<string, never> = () => async () => 'done';
    const saved = { ...process.env };
    Object.assign(process.env, functionEnvironment(), { POWERTOOLS_METRICS_DISABLED: 'true' });
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const writes = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation(capture),
    );
    try {
      const handler = lambdaHandler(quiet, {});
      const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as never;
      expect(await handler({}, context)).toBe('done');
      logger.warn('a warning of our own');
    } finally {
      for (const write of writes) write.mockRestore();
      process.env = saved;
    }
    expect(written.join('')).toContain('a warning of our own'); // the logger's lines are the ones seen here
    expect(written.join('')).not.toContain('No application metrics');
  });

  it('counts an ended submission as a metric of its own, by status and failure class', () => {
    const emitted = metricLines('SubmissionsEnded', () => {
      countSubmissionEnded({ status: 'failed', failureClass: 'agent_crashed' });
      countSubmissionEnded({ status: 'finished' });
      countSubmissionEnded({ status: 'failed', failureClass: 'time_limit' }, 3); // the sweeper's, in one
      countSubmissionEnded({ status: 'failed', failureClass: 'platform_error' }, 0); // none: no metric
    });
    expect(emitted).toEqual([
      expect.objectContaining({ Status: 'failed', FailureClass: 'agent_crashed', SubmissionsEnded: 1 }),
      expect.objectContaining({ Status: 'finished', FailureClass: 'none', SubmissionsEnded: 1 }),
      expect.objectContaining({ Status: 'failed', FailureClass: 'time_limit', SubmissionsEnded: 3 }),
    ]);
    expect(emitted[0]._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Pitwall',
      Dimensions: [['service', 'Status', 'FailureClass']],
    });
  });

  it('records what an ended attempt cost as a metric of its own, by phase and track', () => {
    const emitted = metricLines('"Phase"', () => {
      recordAttemptCost({ phasePk: 4001, track: 'SENSORS', gpuHours: 1.5, usd: 0.6 });
      recordAttemptCost({ phasePk: 4002, track: 'MAP', gpuHours: 0.5 }); // unpriced: GPU time only
      recordAttemptCost(undefined);
    });
    expect(emitted).toEqual([
      expect.objectContaining({ Phase: '4001', Track: 'SENSORS', GpuSeconds: 5400 }),
      expect.objectContaining({ Phase: '4001', Track: 'SENSORS', CostUsd: 0.6 }),
      expect.objectContaining({ Phase: '4002', Track: 'MAP', GpuSeconds: 1800 }), // unpriced: no CostUsd
    ]);
    expect(emitted.map((line) => line._aws.CloudWatchMetrics[0])).toEqual([
      expect.objectContaining({
        Namespace: 'Pitwall',
        Dimensions: [['service', 'Phase', 'Track']],
        Metrics: [{ Name: 'GpuSeconds', Unit: 'Seconds' }],
      }),
      expect.objectContaining({ Metrics: [{ Name: 'CostUsd', Unit: 'None' }] }),
      expect.objectContaining({ Metrics: [{ Name: 'GpuSeconds', Unit: 'Seconds' }] }),
    ]);
  });

  it('hostedBy: the same entry point, configured from another environment, with the ports its host brings', async () => {
    const reads: RawHandler<{ note?: string; record: unknown }, 'artifacts'> =
      ({ plane }) =>
      async () => ({ note: await plane.artifacts.get('notes/host.txt'), record: await plane.store.get(424242) });
    const entryPoint = lambdaHandler(reads, { artifacts: s3ArtifactStore });
    const given = { get: async (key: string) => `given ${key}`, put: async () => undefined };
    const hosted = entryPoint.hostedBy({ env: functionEnvironment(), ports: { artifacts: given } });
    const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as never;
    // The store comes from the environment (dynalite), the artifacts from the host.
    expect(await hosted({}, context)).toEqual({ note: 'given notes/host.txt', record: undefined });
    await expect(entryPoint.hostedBy({ env: {} })({}, context)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'environment variable PITWALL_TABLE: Invalid input: expected string, received undefined',
    });
  });

  it('logs the error a task ends with, by name, and still throws it to the state machine', async () => {
    const refused: RawHandler<string, 'evalai'> = () => async () => {
      throw new EvalAiNotHostError('the EvalAI user of this token is not a host of challenge 5');
    };
    const saved = { ...process.env };
    Object.assign(process.env, functionEnvironment(), { POWERTOOLS_METRICS_DISABLED: 'true' });
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const handler = lambdaHandler(refused, { evalai: evalAiHost });
      const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as never;
      await expect(handler({}, context)).rejects.toThrow(EvalAiNotHostError);
      expect(logged).toHaveBeenCalledWith(
        'the task failed with EvalAiNotHostError: the EvalAI user of this token is not a host of challenge 5',
        expect.objectContaining({ error: expect.any(EvalAiNotHostError) }),
      );
    } finally {
      logged.mockRestore();
      process.env = saved;
    }
  });
});

/** The environment of a function configured like `config`. */
function functionEnvironment() {
  return {
    PITWALL_TABLE: config.table,
    PITWALL_IDEMPOTENCY_TABLE: config.idempotencyTable,
    PITWALL_BUCKET: config.bucket,
    EVALAI_API_SERVER: config.evalai.apiServer,
    EVALAI_TOKEN: 'host-token',
    PITWALL_CHALLENGE_CONFIG: JSON.stringify(config.challenge),
    PITWALL_DYNAMODB_ENDPOINT: dynamo.endpoint,
  };
}
