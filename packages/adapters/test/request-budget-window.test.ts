import { createServer } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EvalAiRateLimitedError } from '@pitwall/domain';
import { EvalAiEmulator, type RunningServer, startDynamoDb } from '@pitwall/emulators';
import {
  createDocumentClient,
  DynamoDbRequestBudget,
  EvalAiClient,
  MemoryRequestBudget,
  submissionsTable,
} from '../src/index.js';

// EvalAI at its real 60 requests a minute, Pitwall's budget at 60, four "Lambdas" sharing it through
// dynalite, and one fake clock for all of them: many concurrent callers across a minute boundary must never
// draw a 429, and no 60-second interval may hold more than 60 requests.
const TABLE = 'pitwall-budget';
const LIMIT = 60;
let time = Date.parse('2026-12-01T10:00:00Z');
const now = () => time;
let dynamo: RunningServer;
let documents: ReturnType<typeof createDocumentClient>;
const evalai = new EvalAiEmulator({
  challengePk: 7,
  phases: [{ pk: 11, codename: 'p', splits: ['leaderboard'], maxConcurrentSubmissions: 1_000 }],
  labels: ['Driving score'],
  hostToken: 'host',
  requestsPerMinute: LIMIT,
  now,
});
let url = '';
// Hundreds of conditional writes to dynalite: slow when the rest of the suite shares the two cores.
jest.setTimeout(60_000);

beforeAll(async () => {
  dynamo = await startDynamoDb();
  documents = createDocumentClient({
    region: 'eu-west-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await documents.send(new CreateTableCommand(submissionsTable(TABLE)));
  url = await evalai.start();
});
afterAll(async () => {
  await evalai.close();
  await dynamo.close();
});

/** One Lambda: its own client and its own handle on the shared budget. */
function lambda(options: { waits: boolean }) {
  return new EvalAiClient({
    baseUrl: url,
    token: 'host',
    budget: new DynamoDbRequestBudget(documents, TABLE, LIMIT, now),
    retries: 3,
    // Every answer counts: a request given up on under load would rightly hold its slot a minute longer
    // (UNANSWERED_MS), and the bursts below count on answers.
    timeoutMs: 50_000,
    maxBudgetWaitSeconds: options.waits ? 600 : 0,
    // Waiting moves the shared clock: nothing else does.
    sleep: async (ms) => {
      time += ms;
    },
  });
}

/** The most requests EvalAI received in any 60-second interval. */
function busiestMinute(): number {
  const times = evalai.requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= 60_000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

const throttled = () => evalai.requests.filter((r) => r.status === 429).length;

describe('the EvalAI request budget is a sliding window across every process', () => {
  it('sends no request EvalAI would throttle, before, across and after a minute boundary', async () => {
    const submission = evalai.createSubmission({ phasePk: 11, teamPk: 1, teamName: 't', imageUri: 'x' });
    const lambdas = Array.from({ length: 4 }, () => lambda({ waits: false }));
    // 100 concurrent callers of every rank: results, status changes, reads.
    const burst = () =>
      Promise.allSettled(
        Array.from({ length: 100 }, (_, i) => {
          const client = lambdas[i % lambdas.length] as EvalAiClient;
          if (i % 3 === 0) {
            return client.putResult(7, 'failed', {
              submissionPk: submission.id,
              phasePk: 11,
              result: '[]',
              stdout: '',
              stderr: 'x',
              metadata: '',
            });
          }
          if (i % 3 === 1) return client.patchStatus(7, { submissionPk: submission.id, status: 'running' });
          return client.getSubmission(submission.id);
        }),
      );
    const sent = (results: PromiseSettledResult<unknown>[]) => {
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(EvalAiRateLimitedError);
      }
      return results.filter((r) => r.status === 'fulfilled').length;
    };

    time = Math.ceil(time / 60_000) * 60_000 - 1_000; // one second before a minute boundary
    expect(sent(await burst())).toBe(LIMIT);
    time += 2_000; // a calendar-minute budget would send another 60 now, and EvalAI would refuse them
    expect(sent(await burst())).toBe(0);
    time += 30_000;
    expect(sent(await burst())).toBe(0);
    time += 30_000; // past the window of the first burst
    expect(sent(await burst())).toBe(LIMIT);

    expect(throttled()).toBe(0);
    expect(busiestMinute()).toBeLessThanOrEqual(LIMIT);
  });

  it('lets callers that wait for a slot all through, still without a single 429', async () => {
    const submission = evalai.createSubmission({ phasePk: 11, teamPk: 2, teamName: 'u', imageUri: 'x' });
    time += 120_000;
    const lambdas = Array.from({ length: 3 }, () => lambda({ waits: true }));
    const results = await Promise.allSettled(
      Array.from({ length: 150 }, (_, i) => (lambdas[i % 3] as EvalAiClient).getSubmission(submission.id)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(150);
    expect(throttled()).toBe(0);
    expect(busiestMinute()).toBeLessThanOrEqual(LIMIT);
  });

  it('keeps lower ranks to their share, so a terminal result always finds a slot', async () => {
    time += 120_000;
    const budget = new DynamoDbRequestBudget(documents, TABLE, 10, now);
    const reads = await Promise.all(Array.from({ length: 12 }, () => budget.take('read', 1_000)));
    expect(reads.filter((g) => g.granted)).toHaveLength(8); // 80% of 10
    const partial = await budget.take('partial', 1_000);
    expect(partial.granted).toBe(false);
    const results = await Promise.all(Array.from({ length: 3 }, () => budget.take('result', 1_000)));
    expect(results.filter((g) => g.granted)).toHaveLength(2);
    const refused = results.find((g) => !g.granted);
    // the first slots free up a window (61 s) plus the request's longest time after they were taken
    expect(refused && !refused.granted && refused.retryAfterMs).toBe(62_000);
  });

  it.each([
    ['in memory', () => new MemoryRequestBudget(3, now)],
    ['in DynamoDB', () => new DynamoDbRequestBudget(documents, TABLE, 3, now)],
  ])(
    'counts a request that got no answer as still on its way (%s): EvalAI may get it after the client gave up',
    async (_, makeBudget) => {
      // Under load EvalAI (or the emulator beside a busy runtime) reads a request only after the client's
      // timeout. Released as if answered, its slot would free up a window after the timeout, and the next
      // request would land in the same 60 s as it on EvalAI's side.
      time += 120_000;
      const gaveUpAt = time;
      const held: (() => Promise<unknown>)[] = [];
      const late: typeof fetch = (input, init) => {
        const { signal, ...rest } = init ?? {};
        return new Promise((_, reject) => {
          signal?.addEventListener('abort', () => {
            reject(signal.reason);
            held.push(() => fetch(input, rest).then((response) => response.text()));
          });
        });
      };
      const options = { baseUrl: url, token: 'host', budget: makeBudget(), retries: 0, timeoutMs: 50 }; // two slots for reads
      const submission = evalai.createSubmission({ phasePk: 11, teamPk: 3, teamName: `v ${_}`, imageUri: 'x' });
      const seen = evalai.requests.length;
      const gaveUp = new EvalAiClient({ ...options, fetch: late });
      const attempts = [gaveUp.getSubmission(submission.id), gaveUp.getSubmission(submission.id)];
      for (const attempt of attempts) await expect(attempt).rejects.toThrow('did not answer');
      time += 5_000; // EvalAI gets to both 5 s after the client gave up
      await Promise.all(held.map((send) => send()));
      const next = new EvalAiClient(options);
      time = gaveUpAt + 61_000; // a window after the client gave up, 56 s after EvalAI counted both
      await expect(next.getSubmission(submission.id)).rejects.toThrow('budget is spent');
      time = gaveUpAt + 121_000; // a request still unanswered a minute after the client gave up is dropped
      await expect(next.getSubmission(submission.id)).resolves.toMatchObject({ id: submission.id });
      expect(evalai.requests.slice(seen).map((r) => r.at - gaveUpAt)).toEqual([5_000, 5_000, 121_000]);
    },
  );

  it('counts a request refused a connection as over: it never left, and cannot reach EvalAI later', async () => {
    time += 120_000;
    const refusedAt = time;
    const budget = new MemoryRequestBudget(3, now); // two slots for reads
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const away = new EvalAiClient({ baseUrl: `http://127.0.0.1:${closed}`, token: 'host', budget, retries: 0 });
    for (let i = 0; i < 2; i++) await expect(away.getSubmission(1)).rejects.toThrow('did not answer');
    time = refusedAt + 61_000; // a window later, not two: EvalAI back, the budget has its slots again
    const back = new EvalAiClient({ baseUrl: url, token: 'host', budget, retries: 0 });
    const submission = evalai.createSubmission({ phasePk: 11, teamPk: 4, teamName: 'w', imageUri: 'x' });
    await expect(back.getSubmission(submission.id)).resolves.toMatchObject({ id: submission.id });
  });

  it('counts a slot from when its request ended, and a lease never released for its worst case', async () => {
    let clock = 0;
    const budget = new MemoryRequestBudget(1, () => clock);
    const first = await budget.take('result', 10_000);
    if (!first.granted) throw new Error('expected a slot');
    clock = 5_000;
    await first.lease.release(); // the answer came 5 s after the request was sent
    clock = 65_999;
    expect((await budget.take('result', 10_000)).granted).toBe(false);
    clock = 66_000;
    const crashed = await budget.take('result', 10_000); // never released
    expect(crashed.granted).toBe(true);
    clock = 66_000 + 70_999;
    expect((await budget.take('result', 10_000)).granted).toBe(false);
    clock = 66_000 + 71_000;
    expect((await budget.take('result', 10_000)).granted).toBe(true);
  });
});
