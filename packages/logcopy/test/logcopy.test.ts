import { spawnSync } from 'node:child_process';
import { appendFile, lstat, mkdir, mkdtemp, open, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createDocumentClient, createS3Client, S3ArtifactStore, submissionsTable } from '@pitwall/adapters';
import { ArtifactStoreUnavailableError, artifactKeys, INFRACTION_KEYS } from '@pitwall/domain';
import { type RunningServer, S3RVER_CREDENTIALS, startDynamoDb, startS3 } from '@pitwall/emulators';
// @ts-expect-error build.mjs is plain JavaScript
import { bundle } from '../build.mjs';
import { DynamoDbProgressSink, Logcopy, type LogcopyConfig, readLogcopyConfig } from '../src/index.js';

let s3Server: RunningServer;
let dynamoServer: RunningServer;
let artifacts: S3ArtifactStore;
let documents: ReturnType<typeof createDocumentClient>;
let dir: string;
let config: LogcopyConfig;

const record = (id: number) => ({
  index: id,
  route_id: `RouteScenario_${id}_rep0`,
  status: 'Perfect',
  num_infractions: 0,
  infractions: Object.fromEntries(INFRACTION_KEYS.map((k) => [k, []])),
  scores: { score_route: 100.0, score_penalty: 1.0, score_composed: 100.0 },
  meta: { route_length: 1000.0, duration_game: 10.0, duration_system: 40.0 },
});
const checkpoint = (done: number) =>
  JSON.stringify({
    _checkpoint: { global_record: {}, progress: [done, 2], records: Array.from({ length: done }, (_, i) => record(i)) },
    entry_status: 'Started',
    eligible: false,
    sensors: ['carla_camera'],
    values: [],
    labels: [],
  });

beforeAll(async () => {
  [s3Server, dynamoServer] = await Promise.all([startS3({ buckets: ['pitwall'] }), startDynamoDb()]);
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const raw = new DynamoDBClient({ region: 'eu-west-1', endpoint: dynamoServer.endpoint, credentials });
  await raw.send(new CreateTableCommand(submissionsTable('pitwall')));
  raw.destroy();
  documents = createDocumentClient({ region: 'eu-west-1', endpoint: dynamoServer.endpoint, credentials });
  artifacts = new S3ArtifactStore(
    createS3Client({ region: 'eu-west-1', endpoint: s3Server.endpoint, credentials: S3RVER_CREDENTIALS }),
    'pitwall',
  );
});
afterAll(async () => {
  documents.destroy();
  await Promise.all([s3Server.close(), dynamoServer.close()]);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logcopy-'));
  const pk = Math.floor(Math.random() * 1e6) + 1;
  config = readLogcopyConfig({
    SUBMISSION_PK: String(pk),
    WORKER: '1',
    S3_BUCKET: 'pitwall',
    S3_PREFIX: artifactKeys.worker(pk, 1),
    DYNAMODB_TABLE: 'pitwall',
    AWS_REGION: 'eu-west-1',
    PERIOD_SECONDS: '0.05',
    MAX_UPLOAD_BYTES: String(64 * 1024 * 1024),
    STATUS_DIR: join(dir, 'status'),
    CHECKPOINT_PATH: join(dir, 'agent', 'checkpoint.json'),
    LOG_DIR: join(dir, 'logs'),
  });
  await mkdir(config.statusDir, { recursive: true });
  await mkdir(config.logDir, { recursive: true });
  await mkdir(join(dir, 'agent'), { recursive: true });
});

const logcopy = (c = config) => new Logcopy(c, artifacts, new DynamoDbProgressSink(documents, 'pitwall'));
const progressItem = async () =>
  (await documents.send(new GetCommand({ TableName: 'pitwall', Key: { pk: `WORKER#${config.submissionPk}#1` } }))).Item;

describe('logcopy against s3rver and dynalite', () => {
  it('uploads what the evaluator writes and records progress', async () => {
    await writeFile(join(config.statusDir, 'simulator-1.start0'), '');
    await writeFile(join(config.logDir, 'agent-1.log'), 'route 0 started\n');
    await writeFile(config.checkpointPath, checkpoint(1));
    const report = await logcopy().syncOnce();
    expect([...report.uploaded].sort()).toEqual([
      `${config.prefix}checkpoint.json`,
      `${config.prefix}logs/agent-1.log`,
      `${config.prefix}status/simulator-1.start0`,
    ]);
    expect(await artifacts.get(`${config.prefix}checkpoint.json`)).toBe(checkpoint(1));
    expect(await progressItem()).toMatchObject({ done: 1, total: 2, entryStatus: 'Started', worker: 1, attempt: 1 });
  });

  it('streams a 1 GiB log with bounded memory, keeping its end, marked as cut', async () => {
    const capped = { ...config, maxUploadBytes: 1024 * 1024 };
    const log = join(config.logDir, 'agent-1.log');
    // 1 GiB of (sparse) zeros, then the line that matters.
    const handle = await open(log, 'w');
    await handle.truncate(1024 ** 3);
    await handle.close();
    await appendFile(log, 'RuntimeError: CUDA out of memory\n');
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      await logcopy(capped).syncOnce();
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
    const uploaded = (await artifacts.get(`${config.prefix}logs/agent-1.log`)) ?? '';
    const size = 1024 ** 3 + 'RuntimeError: CUDA out of memory\n'.length;
    expect(uploaded.split('\n')[0]).toBe(
      `[pitwall: ${size - capped.maxUploadBytes} of ${size} bytes left out; the last ${capped.maxUploadBytes} follow]`,
    );
    expect(uploaded.endsWith('RuntimeError: CUDA out of memory\n')).toBe(true);
    expect(Buffer.byteLength(uploaded)).toBeLessThan(capped.maxUploadBytes + 200);
  }, 60_000);

  it('uploads no file an agent planted as a link, a FIFO or a folder: only regular files, never followed', async () => {
    // The agent shares /tmp/agent, /tmp/status and /tmp/logs with logcopy, which alone holds the AWS token.
    const secret = join(dir, 'token');
    await writeFile(secret, 'web-identity-token-of-logcopy');
    await symlink(secret, config.checkpointPath);
    await symlink(secret, join(config.logDir, 'agent-1.log'));
    await symlink(secret, join(config.statusDir, 'agent-1.done'));
    spawnSync('mkfifo', [join(config.logDir, 'simulator-1.log')]);
    await mkdir(join(config.logDir, 'nested'));
    await writeFile(join(config.logDir, 'evaluator-1.log'), 'a real log\n');
    const report = await logcopy().syncOnce();
    expect(report.uploaded).toEqual([`${config.prefix}logs/evaluator-1.log`]);
    for (const key of ['checkpoint.json', 'logs/agent-1.log', 'status/agent-1.done', 'logs/simulator-1.log']) {
      expect(await artifacts.get(`${config.prefix}${key}`)).toBeUndefined();
    }
    expect(report.finished).toBe(false); // a planted done file is not the agent's done
  });

  it('never uploads a checkpoint caught mid-write, and uploads what the agent left unchanged for the control plane to judge', async () => {
    const copy = logcopy();
    const key = `${config.prefix}checkpoint.json`;
    await writeFile(config.checkpointPath, checkpoint(1));
    await copy.syncOnce();
    const whole = checkpoint(2);
    await writeFile(config.checkpointPath, whole.slice(0, whole.length / 2)); // the evaluator is writing it
    expect((await copy.syncOnce()).uploaded).not.toContain(key);
    expect(await artifacts.get(key)).toBe(checkpoint(1)); // a new pod would resume from this one
    await writeFile(config.checkpointPath, whole);
    expect((await copy.syncOnce()).uploaded).toContain(key);
    expect(await artifacts.get(key)).toBe(whole);
    await writeFile(config.checkpointPath, 'not json at all');
    expect((await copy.syncOnce()).uploaded).not.toContain(key);
    expect((await copy.syncOnce()).uploaded).toContain(key); // the same twice: not a write in progress
    expect(await artifacts.get(key)).toBe('not json at all');
  });

  it('never writes a restored checkpoint through a link the agent planted', async () => {
    await artifacts.put(`${config.prefix}checkpoint.json`, checkpoint(1));
    const target = join(dir, 'logcopy-owned-file');
    await writeFile(target, 'untouched');
    await symlink(target, config.checkpointPath);
    expect(await logcopy().restore()).toEqual(['checkpoint.json']);
    expect(await readFile(target, 'utf8')).toBe('untouched');
    expect((await lstat(config.checkpointPath)).isFile()).toBe(true);
    expect(await readFile(config.checkpointPath, 'utf8')).toBe(checkpoint(1));
  });

  it("records when the agent's output last changed, for the idle watchdog", async () => {
    let now = Date.parse('2026-06-01T12:00:00Z');
    const copy = new Logcopy(config, artifacts, new DynamoDbProgressSink(documents, 'pitwall'), () => new Date(now));
    await writeFile(join(config.logDir, 'agent-1.log'), 'route 0\n');
    await copy.syncOnce();
    expect((await progressItem())?.lastOutputAt).toBe('2026-06-01T12:00:00.000Z');
    now += 60_000;
    await writeFile(join(config.statusDir, 'simulator-1.start0'), ''); // not the agent's output
    await copy.syncOnce();
    expect(await progressItem()).toMatchObject({
      heartbeatAt: '2026-06-01T12:01:00.000Z',
      lastOutputAt: '2026-06-01T12:00:00.000Z',
    });
  });

  it('uploads only files that changed since the last pass', async () => {
    const copy = logcopy();
    await writeFile(config.checkpointPath, checkpoint(1));
    await writeFile(join(config.logDir, 'agent-1.log'), 'a\n');
    await copy.syncOnce();
    expect((await copy.syncOnce()).uploaded).toEqual([]);
    await writeFile(config.checkpointPath, checkpoint(2));
    expect((await copy.syncOnce()).uploaded).toEqual([`${config.prefix}checkpoint.json`]);
    expect(await progressItem()).toMatchObject({ done: 2, total: 2 });
  });

  it('keeps the heartbeat going when the checkpoint is malformed, and still uploads it for the control plane to judge', async () => {
    await writeFile(config.checkpointPath, '{"_checkpoint": ');
    const copy = logcopy();
    await copy.syncOnce(); // perhaps being written: it waits for a pass
    const report = await copy.syncOnce();
    expect(report.uploaded).toContain(`${config.prefix}checkpoint.json`);
    const item = await progressItem();
    expect(item?.heartbeatAt).toBeDefined();
    expect(item?.done).toBeUndefined();
  });

  it('turns the control plane’s cancel marker into the local cancel file', async () => {
    const copy = logcopy();
    expect((await copy.syncOnce()).cancelled).toBe(false);
    await artifacts.put(artifactKeys.cancel(config.submissionPk, config.attempt), 'cancelled by the participant');
    expect((await copy.syncOnce()).cancelled).toBe(true);
    const upload = await artifacts.get(`${config.prefix}status/simulation-1.cancel`);
    expect(upload).toBeUndefined(); // written locally during this pass; uploaded on the next
    expect((await copy.syncOnce()).uploaded).toContain(`${config.prefix}status/simulation-1.cancel`);
  });

  it('keeps a log of its own, from memory, which a file the agent plants under its name does not replace', async () => {
    const copy = logcopy();
    await writeFile(join(config.logDir, 'logcopy-1.log'), 'forged by the agent\n');
    await artifacts.put(artifactKeys.cancel(config.submissionPk, config.attempt), 'cancelled by the participant');
    await copy.syncOnce();
    await copy.syncOnce();
    const own = await artifacts.get(artifactKeys.log(config.submissionPk, 1, 'logcopy'));
    expect(own).toMatch(/^\S+ the control plane asked the containers to stop: cancel file written\n$/);
    // A replacing pod's logcopy goes on with it.
    const next = logcopy();
    await writeFile(join(config.statusDir, 'agent-1.done'), '');
    await writeFile(join(config.statusDir, 'simulator-1.done'), '');
    await next.syncOnce();
    const lines = (await artifacts.get(artifactKeys.log(config.submissionPk, 1, 'logcopy')))?.trim().split('\n');
    expect(lines?.map((line) => line.replace(/^\S+ /, ''))).toEqual([
      'the control plane asked the containers to stop: cancel file written',
      'the control plane asked the containers to stop: cancel file written',
      'both containers are done',
    ]);
  });

  it('stops once both the simulator and the agent are done, after a last upload', async () => {
    await writeFile(join(config.statusDir, 'simulator-1.done'), '');
    await writeFile(join(config.statusDir, 'agent-1.done'), '');
    await writeFile(config.checkpointPath, checkpoint(2));
    expect(await logcopy().run(new AbortController().signal)).toBe('finished');
    expect(await artifacts.get(`${config.prefix}status/agent-1.done`)).toBe('');
  });

  it('carries on past an upload that failed, sends the file on the next pass, and finishes only once it is up', async () => {
    // A checkpoint rewritten mid-upload, or S3 gone for a moment: not a reason for the container to crash.
    let failures = 2;
    const flaky = {
      get: (key: string) => artifacts.get(key),
      put: async (key: string, body: string) => {
        if (key.endsWith('checkpoint.json') && failures-- > 0) {
          throw new ArtifactStoreUnavailableError(`could not write ${key}: S3 is away`);
        }
        return artifacts.put(key, body);
      },
      putFile: (key: string, path: string, options: { maxBytes: number }) => artifacts.putFile(key, path, options),
    };
    await writeFile(join(config.statusDir, 'simulator-1.done'), '');
    await writeFile(join(config.statusDir, 'agent-1.done'), '');
    await writeFile(config.checkpointPath, checkpoint(2));
    const warnings: string[] = [];
    const sink = new DynamoDbProgressSink(documents, 'pitwall');
    const copy = new Logcopy(config, flaky, sink, undefined, (line) => warnings.push(line));
    const first = await copy.syncOnce();
    expect(first.finished).toBe(false); // the checkpoint is not up yet
    expect(first.failed).toEqual([`${config.prefix}checkpoint.json`]);
    expect(await copy.run(new AbortController().signal)).toBe('finished');
    expect(failures).toBe(-1);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('checkpoint.json not uploaded, trying again: could not write');
    expect(await artifacts.get(`${config.prefix}checkpoint.json`)).toBe(checkpoint(2));
  });

  it('carries on past a moment without DynamoDB or S3 for progress and the cancel marker, and finishes once progress is in', async () => {
    // The stores restarting (a local runtime's restart, an AWS blip): the container must not crash, which
    // would count against the Job's backoffLimit.
    // Down for the first pass (progress, then the cancel marker), back for the next.
    let down = true;
    const refused = new ArtifactStoreUnavailableError('connect ECONNREFUSED 127.0.0.1:4569');
    const flaky = {
      get: async (key: string) => {
        if (down) {
          down = false;
          throw refused;
        }
        return artifacts.get(key);
      },
      put: (key: string, body: string) => artifacts.put(key, body),
      putFile: (key: string, path: string, options: { maxBytes: number }) => artifacts.putFile(key, path, options),
    };
    const sink = new DynamoDbProgressSink(documents, 'pitwall');
    const flakySink = {
      record: async (progress: Parameters<typeof sink.record>[0]) => {
        if (down) throw refused;
        return sink.record(progress);
      },
    };
    await writeFile(join(config.statusDir, 'simulator-1.done'), '');
    await writeFile(join(config.statusDir, 'agent-1.done'), '');
    await writeFile(config.checkpointPath, checkpoint(2));
    const warnings: string[] = [];
    const copy = new Logcopy(config, flaky, flakySink, undefined, (line) => warnings.push(line));
    const first = await copy.syncOnce();
    expect(first).toMatchObject({ finished: false, cancelled: false }); // the progress is not in yet
    expect(warnings).toEqual([
      'logcopy: progress not recorded, trying again: connect ECONNREFUSED 127.0.0.1:4569',
      'logcopy: cancel marker not read, trying again: connect ECONNREFUSED 127.0.0.1:4569',
    ]);
    expect(await progressItem()).toBeUndefined();
    expect(await copy.run(new AbortController().signal)).toBe('finished');
    expect(await progressItem()).toMatchObject({ done: 2, total: 2 });
  });

  it('flushes once more and stops on SIGTERM', async () => {
    const stop = new AbortController();
    const running = logcopy().run(stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await writeFile(join(config.logDir, 'simulator-1.log'), 'last words\n');
    stop.abort();
    expect(await running).toBe('stopped');
    expect(await artifacts.get(`${config.prefix}logs/simulator-1.log`)).toBe('last words\n');
  });

  it('tries its last flush again when an upload of it fails: the pod is going, and a new pod resumes from what is up', async () => {
    let failures = 1;
    const flaky = {
      get: (key: string) => artifacts.get(key),
      put: async (key: string, body: string) => {
        if (key.endsWith('checkpoint.json') && failures-- > 0) throw new ArtifactStoreUnavailableError('S3 is away');
        return artifacts.put(key, body);
      },
      putFile: (key: string, path: string, options: { maxBytes: number }) => artifacts.putFile(key, path, options),
    };
    const stop = new AbortController();
    stop.abort(); // SIGTERM before the first pass: a node lost right after a route was written
    await writeFile(config.checkpointPath, checkpoint(1));
    const copy = new Logcopy(config, flaky, new DynamoDbProgressSink(documents, 'pitwall'), undefined, () => undefined);
    expect(await copy.run(stop.signal)).toBe('stopped');
    expect(await artifacts.get(`${config.prefix}checkpoint.json`)).toBe(checkpoint(1));
  });

  it('waits in its last flush for a checkpoint caught mid-write, and sends it whole', async () => {
    const stop = new AbortController();
    stop.abort(); // the pod is going as the evaluator writes its checkpoint
    await writeFile(config.checkpointPath, checkpoint(2).slice(0, 40));
    const running = logcopy().run(stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writeFile(config.checkpointPath, checkpoint(2));
    expect(await running).toBe('stopped');
    expect(await artifacts.get(`${config.prefix}checkpoint.json`)).toBe(checkpoint(2));
  });

  it('restores the checkpoint the worker uploaded (a resumed attempt, a pod replacing a lost one), and nothing where there is none', async () => {
    expect(await logcopy().restore()).toEqual([]);
    await artifacts.put(`${config.prefix}checkpoint.json`, checkpoint(1));
    expect(await logcopy().restore()).toEqual(['checkpoint.json']);
    expect(await readFile(config.checkpointPath, 'utf8')).toBe(checkpoint(1));
  });

  // A pod that replaces one gone (a node lost, a spot instance taken back) starts with new emptyDirs: the
  // scripts' logs come back first, so that they append to them and the upload does not overwrite the old pod's.
  it('restores the worker’s logs for a pod that replaces another, so that they go on rather than start over', async () => {
    const w = config.worker;
    await artifacts.put(`${config.prefix}logs/agent-${w}.log`, 'agent, first pod\n');
    await artifacts.put(`${config.prefix}logs/simulator-${w}.log`, 'simulator, first pod\n');
    expect(await logcopy().restore()).toEqual([`agent-${w}.log`, `simulator-${w}.log`]);
    expect(await readFile(join(config.logDir, `agent-${w}.log`), 'utf8')).toBe('agent, first pod\n');
    expect(await readFile(join(config.logDir, `simulator-${w}.log`), 'utf8')).toBe('simulator, first pod\n');
  });

  it('refuses a configuration that is missing a variable, naming it', () => {
    expect(() => readLogcopyConfig({ WORKER: '1' })).toThrow('logcopy: environment variable SUBMISSION_PK');
  });
});

describe('the logcopy bundle (what the container image runs)', () => {
  it('builds with esbuild and runs without node_modules', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'logcopy-bundle-')), 'logcopy.mjs');
    await bundle(out);
    const usage = spawnSync(process.execPath, [out], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: logcopy watch|restore');
    const unconfigured = spawnSync(process.execPath, [out, 'watch'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(unconfigured.status).toBe(1);
    expect(unconfigured.stderr).toContain('environment variable SUBMISSION_PK');
  }, 60_000);
});
