import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createS3Client, S3ArtifactStore } from '@pitwall/adapters';
import { routesFile } from '@pitwall/carla-routes';
import { expandRoutesSubset, parseRouteFile } from '@pitwall/domain';
import { EvalAiEmulator, S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { FakeKubeApi } from '@pitwall/kube/testing';
import { LEADERBOARD_LABELS, perfectCheckpoint } from '@pitwall/local';
import { createSqsServer } from 'local-aws-sqs';
import { stringify } from 'yaml';
import { until } from '../support/until.js';

// `pitwall serve` as a host runs it, in its own process, against an EvalAI it only knows by URL and token
// (the emulator standing in for eval.ai): once with the host's SQS queue, once through EvalAI's REST proxy.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const CHALLENGE = 2010;
const PHASE = 4003;
const HOST_TOKEN = 'host-token-from-a-file';
const PARTICIPANT_TOKEN = 'participant-token';
const REGION = 'us-east-1';

let serving: ChildProcess | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  serving?.kill('SIGKILL');
  serving = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The first two CARLA validation routes, as a host's own route file. */
function twoRoutes(): string {
  const text = readFileSync(routesFile('validation'), 'utf8');
  const routes = text.match(/<route [\s\S]*?<\/route>/g) ?? [];
  return `<?xml version='1.0' encoding='utf-8'?>\n<routes>\n${routes.slice(0, 2).join('\n')}\n</routes>\n`;
}

function writeStage(dir: string, evalai: Record<string, unknown>, machine: Record<string, unknown> = {}): string {
  const tokenFile = join(dir, 'evalai-token');
  writeFileSync(tokenFile, `${HOST_TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  writeFileSync(join(dir, 'qualifier.xml'), twoRoutes());
  const stage = {
    evalai: { requestsPerMinute: 60, tokenFile, ...evalai },
    machine: {
      executor: 'processes',
      stateDir: join(dir, 'state'),
      routeFiles: { 'routes/routes_qualifier.xml': join(dir, 'qualifier.xml') },
      ...machine,
    },
    challenge: {
      challengePk: CHALLENGE,
      phases: {
        [PHASE]: {
          track: 'SENSORS_QUALIFIER',
          routesKey: 'routes/routes_qualifier.xml',
          workers: 2,
          timeLimitSeconds: 600,
        },
      },
      allowedImages: ['^local/agent:'],
      poll: { initialSeconds: 1, maxSeconds: 1, maxTurns: 1000 },
    },
  };
  const file = join(dir, 'workstation.yml');
  writeFileSync(file, stringify(stage));
  return file;
}

async function startEmulator(options: Partial<ConstructorParameters<typeof EvalAiEmulator>[0]>) {
  const evalai = new EvalAiEmulator({
    challengePk: CHALLENGE,
    phases: [{ pk: PHASE, codename: 'qualifier-SENSORS', splits: ['leaderboard'] }],
    labels: LEADERBOARD_LABELS,
    hostToken: HOST_TOKEN,
    participantToken: PARTICIPANT_TOKEN,
    ...options,
  });
  const url = await evalai.start();
  cleanups.push(() => evalai.close());
  return { evalai, url };
}

interface PodContainer {
  name: string;
  image: string;
  env?: { name: string; value: string }[];
  envFrom?: { secretRef: { name: string } }[];
}

interface PodSpec {
  nodeSelector: Record<string, string>;
  volumes: { name: string }[];
  initContainers: PodContainer[];
  containers: PodContainer[];
}

/** Runs `pitwall serve --stage <file>`, collecting what it prints. */
function serve(stageFile: string, env: Record<string, string> = {}) {
  const output: string[] = [];
  serving = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'serve', '--stage', stageFile], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serving.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  serving.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return { printed: () => output.join('') };
}

/** A participant's `evalai push`, through EvalAI's API. */
async function push(url: string, team: string, image: string): Promise<number> {
  const response = await fetch(`${url}/api/jobs/challenge/${CHALLENGE}/challenge_phase/${PHASE}/submission/`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${PARTICIPANT_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ team_name: team, submitted_image_uri: image }),
  });
  const body = (await response.json()) as { id: number };
  expect(response.ok).toBe(true);
  return body.id;
}

async function stopServing(): Promise<number | null> {
  const child = serving;
  if (!child) return null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** A `pitwall` command: its exit code and what it printed (asynchronously: the emulator is this process's). */
function pitwall(...args: string[]): Promise<{ status: number | null; printed: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  child.stdout.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, printed })));
}

/** `pitwall serve --check`. */
const check = (stageFile: string) => pitwall('serve', '--stage', stageFile, '--check');

describe('pitwall serve --check', () => {
  it("asks EvalAI once whether it answers and the token is a host's of the challenge, and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-check-'));
    const { url } = await startEmulator({});
    const stageFile = writeStage(dir, { apiServer: url, queueName: 'q' });
    expect(await check(stageFile)).toEqual({
      status: 0,
      printed: `EvalAI at ${url} answered: the token is a host's of challenge ${CHALLENGE}\n`,
    });
    writeFileSync(join(dir, 'evalai-token'), 'a-made-up-token\n');
    const refused = await check(stageFile);
    expect(refused.status).toBe(1);
    expect(refused.printed).toMatch(/^EvalAI refused the host token for GET .*Rotate the token/);
    expect(refused.printed).not.toMatch(/\n\s+at /);
    // Nothing listens there: it says so, and serve itself would start and keep trying.
    const away = writeStage(dir, { apiServer: 'http://127.0.0.1:9', queueName: 'q' });
    const unanswered = await check(away);
    expect(unanswered.status).toBe(1);
    expect(unanswered.printed).toMatch(/^EvalAI at http:\/\/127\.0\.0\.1:9 did not answer: /);
  }, 120_000);
});

describe('pitwall serve with EvalAI away', () => {
  it('starts, says EvalAI did not answer, says when its intake has failed a while, and when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-away-'));
    // A port nothing listens on yet: EvalAI comes up there later.
    const probe = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const url = `http://127.0.0.1:${probe}`;
    const { printed } = serve(writeStage(dir, { apiServer: url, queueName: 'carla-queue', relaySeconds: 1 }));
    await until(() => printed().includes('Pitwall serves challenge 2010'), 60_000);
    expect(printed()).toContain(`EvalAI at ${url} did not answer: `);
    await until(
      () => /intake: no submission could be read since \d\d:\d\d:\d\d UTC \(.+\); still trying/.test(printed()),
      90_000,
    );
    const evalai = new EvalAiEmulator({
      challengePk: CHALLENGE,
      phases: [{ pk: PHASE, codename: 'qualifier-SENSORS', splits: ['leaderboard'] }],
      labels: LEADERBOARD_LABELS,
      hostToken: HOST_TOKEN,
      queueName: 'carla-queue',
    });
    await evalai.start(probe);
    cleanups.push(() => evalai.close());
    await until(() => printed().includes('intake: reading submissions again'), 90_000);
    expect(await stopServing()).toBe(0);
    expect(printed()).not.toMatch(/\n\s+at /);
  }, 240_000);
});

describe('pitwall serve --stage <machine stage>', () => {
  it("takes submissions from the host's SQS queue (use_host_sqs) to a finished result on EvalAI", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-sqs-'));
    // The host's queue, in "AWS": an SQS server the serving machine reaches with its own AWS settings.
    const server = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: REGION });
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const sqsEndpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const sqs = new SQSClient({
      region: REGION,
      endpoint: sqsEndpoint,
      credentials: { accessKeyId: 'h', secretAccessKey: 'h' },
    });
    cleanups.push(async () => sqs.destroy());
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'carla-leaderboard-2010' }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
    const { evalai, url } = await startEmulator({
      onSubmission: async (_submission, message) => {
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: message }));
      },
    });
    const { printed } = serve(writeStage(dir, { apiServer: url, queueArn: arn }), {
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ACCESS_KEY_ID: 'host',
      AWS_SECRET_ACCESS_KEY: 'host',
      AWS_REGION: REGION,
    });
    await until(() => printed().includes('Pitwall serves challenge 2010'), 60_000);
    expect(printed()).toContain(`submissions from the host's queue ${arn}`);

    const pk = await push(url, 'Team Queue', 'local/agent:good');
    await until(() => evalai.get(pk).status === 'finished', 120_000);
    await until(() => printed().includes(`submission ${pk} (Team Queue): finished`), 10_000);
    expect(evalai.get(pk).stdout).toBeTruthy();
    expect(await stopServing()).toBe(0);
    expect(printed()).not.toMatch(/\n\s+at /); // no stack trace
  }, 240_000);

  it("takes submissions from EvalAI's REST queue proxy, one refused with its reason, shows them to the operator commands by its stage, and stops cleanly", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-proxy-'));
    const { evalai, url } = await startEmulator({ queueName: 'carla-leaderboard-2010-queue' });
    const stage = writeStage(dir, { apiServer: url, queueName: 'carla-leaderboard-2010-queue', relaySeconds: 1 });
    const { printed } = serve(stage);
    await until(() => printed().includes('Pitwall serves challenge 2010'), 60_000);
    expect(printed()).toContain("EvalAI's queue carla-leaderboard-2010-queue (through its REST proxy)");

    const good = await push(url, 'Team Proxy', 'local/agent:good');
    const refused = await push(url, 'Team Elsewhere', 'docker.io/someone/agent:latest');
    await until(() => evalai.get(good).status === 'finished' && evalai.get(refused).status === 'failed', 120_000);
    expect(evalai.get(refused).stderr).toMatch(/image/i);
    expect(evalai.queued).toEqual([]); // every message taken and deleted

    // The operator commands reach the serving machine by its stage, its stores and EvalAI as the host.
    const listed = await pitwall('list', '--stage', stage);
    expect(listed.status).toBe(0);
    expect(listed.printed).toMatch(new RegExp(`\\b${good}\\b.*Team Proxy.*finished`));
    expect(listed.printed).toMatch(new RegExp(`\\b${refused}\\b.*Team Elsewhere.*failed`));
    const shown = await pitwall('show', String(good), '--stage', stage);
    expect(shown.status).toBe(0);
    expect(shown.printed).toContain('Team Proxy');
    expect(shown.printed).toMatch(/EvalAI[^\n]*finished/);
    const logs = await pitwall('logs', String(good), '--stage', stage, '--worker', '0');
    expect(logs).toEqual({ status: 0, printed: expect.stringContaining('the evaluation is complete') });
    const cost = await pitwall('cost', '--stage', stage);
    expect(cost).toEqual({ status: 0, printed: expect.stringMatching(/│ Team Proxy \(\d+\) +│ 1 +│/) });
    expect(await stopServing()).toBe(0);
    // Stopped, its state folder still answers them: its stores opened for the command, the folder free after.
    const stopped = await pitwall('list', '--stage', stage);
    expect(stopped.status).toBe(0);
    expect(stopped.printed).toMatch(new RegExp(`\\b${good}\\b.*Team Proxy.*finished`));
    expect((await pitwall('show', String(refused), '--stage', stage)).printed).toContain('Team Elsewhere');
    expect(existsSync(join(dir, 'state', 'runtime.lock'))).toBe(false);
    // A machine stage that never ran here is said in one line, not "unknown key machine".
    const elsewhere = writeStage(mkdtempSync(join(tmpdir(), 'pitwall-serve-never-')), {
      apiServer: url,
      queueName: 'q',
    });
    const never = await pitwall('list', '--stage', elsewhere);
    expect(never).toEqual({
      status: 2,
      printed: expect.stringMatching(/^pitwall: pitwall serve has not run for stage /),
    });
    expect(never.printed).not.toMatch(/unknown key machine|\n\s+at /);
  }, 240_000);

  it('runs the Jobs on another Kubernetes cluster through a kubeconfig, their logcopy reaching this machine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-cluster-'));
    const { evalai, url } = await startEmulator({ queueName: 'carla-leaderboard-2010-queue' });
    // The cluster: its API server (the fake one, bodies checked against the official schemas), and below
    // the kubelet, which runs each Job's logcopy as its pod would, with the Job's own environment.
    const api = new FakeKubeApi('lab-token');
    const server = await api.start();
    cleanups.push(() => api.close());
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'lab', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'lab', user: { token: 'lab-token' } }],
        contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'lab', namespace: 'default' } }],
        'current-context': 'lab',
      }),
    );
    const stage = writeStage(
      dir,
      { apiServer: url, queueName: 'carla-leaderboard-2010-queue', relaySeconds: 1 },
      {
        executor: 'kubernetes',
        images: {
          simulator: 'registry.lab/carla-simulator:0.9.15',
          evaluator: 'registry.lab/leaderboard-evaluator:2.0',
          logcopy: 'registry.lab/pitwall-logcopy:1',
        },
        cluster: {
          kubeconfig,
          context: 'lab',
          storesAddress: '127.0.0.1',
          logcopySecret: 'pitwall-stores',
          layout: {
            namespace: 'evaluations',
            instanceTypes: { SENSORS_QUALIFIER: 'rtx-4090' },
            logcopyPeriodSeconds: 0.2,
          },
        },
      },
    );
    const { printed } = serve(stage);
    await until(() => printed().includes('Pitwall serves challenge 2010'), 60_000);
    expect(printed()).toContain(`Jobs run on the cluster of ${kubeconfig} (context lab), namespace evaluations`);
    // What the host puts in the cluster, as serve says: the machine's own key, made at its first start.
    const [, keyFile = ''] =
      /kubectl -n evaluations create secret generic pitwall-stores --from-env-file=(\S+)/.exec(printed()) ?? [];
    const secrets: Record<string, Record<string, string>> = {
      'pitwall-stores': parseEnv(readFileSync(keyFile, 'utf8')) as Record<string, string>,
    };
    expect(Object.keys(secrets['pitwall-stores'] ?? {})).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    // And the worker pods' NetworkPolicy: out only to the stores' gateways on storesAddress.
    const [, policyFile = ''] = /NetworkPolicy: kubectl apply -f (\S+)/.exec(printed()) ?? [];
    const egress = JSON.parse(readFileSync(policyFile, 'utf8')).spec.egress;
    expect(egress).toHaveLength(1);
    expect(egress[0].to).toEqual([{ ipBlock: { cidr: '127.0.0.1/32' } }]);

    const pk = await push(url, 'Team Cluster', 'local/agent:good');
    await until(() => api.jobs.size === 2, 60_000);
    const routes = parseRouteFile(twoRoutes());
    for (const [name, job] of api.jobs) {
      const pod = (job as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
      expect(pod.nodeSelector).toEqual({ 'pitwall.dev/node-class': 'rtx-4090' });
      expect(pod.volumes.map((v) => v.name)).not.toContain('aws-token');
      const logcopy = pod.initContainers.find((c) => c.name === 'logcopy'); // a sidecar
      const agent = pod.containers.find((c) => c.name === 'agent');
      expect(agent?.image).toBe('local/agent:good');
      expect(logcopy?.envFrom).toEqual([{ secretRef: { name: 'pitwall-stores' } }]);
      const env = Object.fromEntries((logcopy?.env ?? []).map((e) => [e.name, e.value]));
      expect(env.S3_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const gatewayPorts = [env.DYNAMODB_ENDPOINT, env.S3_ENDPOINT].map((e) => ({
        protocol: 'TCP',
        port: Number(new URL(e ?? '').port),
      }));
      expect(egress[0].ports).toEqual(gatewayPorts);
      expect(env.AWS_ROLE_ARN).toBeUndefined();
      // The agent shares logcopy's network, not its Secret: with s3rver's published key it is turned away.
      const forged = createS3Client({
        region: 'us-east-1',
        endpoint: env.S3_ENDPOINT ?? '',
        credentials: S3RVER_CREDENTIALS,
      });
      await expect(
        new S3ArtifactStore(forged, env.S3_BUCKET ?? '').put(
          `submissions/${pk}/workers/0/checkpoint.json`,
          '{}',
          'application/json',
        ),
      ).rejects.toThrow('the request is signed with another key');
      forged.destroy();
      const unsigned = await fetch(env.DYNAMODB_ENDPOINT ?? '', {
        method: 'POST',
        headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
        body: '{}',
      });
      expect(unsigned.status).toBe(403);
      // The pod: the agent drove its routes and both containers said they were done; logcopy carries it up.
      const podDir = mkdtempSync(join(dir, `${name}-`));
      const worker = env.WORKER ?? '';
      const subset = expandRoutesSubset(routes, agent?.env?.find((e) => e.name === 'ROUTES_SUBSET')?.value ?? '');
      writeFileSync(join(podDir, 'checkpoint.json'), JSON.stringify(perfectCheckpoint(subset)));
      writeFileSync(join(podDir, `agent-${worker}.done`), '');
      writeFileSync(join(podDir, `simulator-${worker}.done`), '');
      const sidecar = spawn(process.execPath, ['--import', 'tsx', 'packages/logcopy/src/main.ts', 'watch'], {
        cwd: repo,
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          ...secrets[logcopy?.envFrom?.[0]?.secretRef?.name ?? ''],
          STATUS_DIR: podDir,
          CHECKPOINT_PATH: join(podDir, 'checkpoint.json'),
          LOG_DIR: podDir,
        },
      });
      let out = '';
      sidecar.stdout.on('data', (chunk) => {
        out += chunk;
      });
      const exited = new Promise((resolve) => sidecar.once('exit', resolve));
      await until(() => out.includes('logcopy: finished'), 60_000);
      sidecar.kill('SIGTERM'); // the kubelet ends a sidecar once the agent has exited
      expect(await exited).toBe(0);
      api.setJobStatus(name, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    }
    await until(() => evalai.get(pk).status === 'finished', 60_000);
    expect(evalai.leaderboard.get(`${pk}/leaderboard`)?.accuracies['Driving score']).toBe(100);
    // Cleanup deleted the Jobs from the cluster.
    await until(() => api.jobs.size === 0, 30_000);
    expect(await stopServing()).toBe(0);
  }, 240_000);

  it('says in one line what is missing when it cannot start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-bad-'));
    const stageFile = writeStage(dir, { apiServer: 'http://127.0.0.1:9', queueName: 'q' });
    writeFileSync(stageFile, readFileSync(stageFile, 'utf8').replace(/ *tokenFile: .*\n/, ''));
    const cli = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'serve', '--stage', stageFile], {
        cwd: repo,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
    const noToken = cli({ PITWALL_EVALAI_TOKEN: '' });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr.trim()).toBe(
      'pitwall: no EvalAI host token: set evalai.tokenFile in the stage, or PITWALL_EVALAI_TOKEN',
    );
    writeFileSync(
      stageFile,
      readFileSync(stageFile, 'utf8').replace('routes/routes_qualifier.xml: ', 'routes/other.xml: '),
    );
    const noRoutes = cli({ PITWALL_EVALAI_TOKEN: HOST_TOKEN });
    expect(noRoutes.status).toBe(2);
    expect(noRoutes.stderr.trim()).toBe(
      'pitwall: phase 4003 runs the routes routes/routes_qualifier.xml, which this machine does not have: name its file under machine.routeFiles',
    );
  }, 60_000);
});
