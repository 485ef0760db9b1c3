import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { routesFile } from '@pitwall/carla-routes';
import { EvalAiEmulator } from '@pitwall/emulators';
import { LEADERBOARD_LABELS } from '@pitwall/local';
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

function writeStage(dir: string, evalai: Record<string, unknown>): string {
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

  it("takes submissions from EvalAI's REST queue proxy, one refused with its reason, and stops cleanly", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-serve-proxy-'));
    const { evalai, url } = await startEmulator({ queueName: 'carla-leaderboard-2010-queue' });
    const { printed } = serve(
      writeStage(dir, { apiServer: url, queueName: 'carla-leaderboard-2010-queue', relaySeconds: 1 }),
    );
    await until(() => printed().includes('Pitwall serves challenge 2010'), 60_000);
    expect(printed()).toContain("EvalAI's queue carla-leaderboard-2010-queue (through its REST proxy)");

    const good = await push(url, 'Team Proxy', 'local/agent:good');
    const refused = await push(url, 'Team Elsewhere', 'docker.io/someone/agent:latest');
    await until(() => evalai.get(good).status === 'finished' && evalai.get(refused).status === 'failed', 120_000);
    expect(evalai.get(refused).stderr).toMatch(/image/i);
    expect(evalai.queued).toEqual([]); // every message taken and deleted
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
