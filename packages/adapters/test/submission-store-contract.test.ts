import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  IllegalTransitionError,
  type NewSubmission,
  RecordChangedError,
  StaleAttemptError,
  type SubmissionStore,
} from '@pitwall/domain';
import { MemorySubmissionStore } from '@pitwall/domain/testing';
import { type RunningServer, startDynamoDb } from '@pitwall/emulators';
import { createDocumentClient, DynamoDbSubmissionStore, submissionsTable, workerActivityKey } from '../src/index.js';

// One contract, two stores: the in-memory double the unit tier uses cannot drift from DynamoDB's.
let server: RunningServer;
let client: ReturnType<typeof createDocumentClient>;
const TABLE = 'pitwall-submissions';

function submission(pk: number, overrides: Partial<NewSubmission> = {}): NewSubmission {
  return {
    submissionPk: pk,
    challengePk: 1,
    phasePk: 2,
    attempt: 1,
    track: 'SENSORS',
    teamPk: 3,
    teamName: 'Team',
    imageUri: 'img',
    registeredAt: '2026-01-01T00:00:00.000Z',
    deadline: '2026-01-02T00:00:00.000Z',
    executionId: 'exec-1',
    at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

beforeAll(async () => {
  server = await startDynamoDb();
  client = createDocumentClient({
    region: 'eu-west-1',
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await client.send(new CreateTableCommand(submissionsTable(TABLE)));
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

describe.each([
  ['DynamoDbSubmissionStore on dynalite', async () => new DynamoDbSubmissionStore(client, TABLE)],
  ['MemorySubmissionStore', async () => new MemorySubmissionStore()],
] as const)('the submission store contract: %s', (_, makeStore: () => Promise<SubmissionStore>) => {
  let store: SubmissionStore;
  beforeAll(async () => {
    store = await makeStore();
  });

  it('creates a record once: a second create is a duplicate', async () => {
    expect(await store.create(submission(1))).toBe(true);
    expect(await store.create(submission(1, { executionId: 'exec-2' }))).toBe(false);
    const record = await store.get(1);
    expect(record).toMatchObject({ status: 'received', attempt: 1, executionId: 'exec-1', teamName: 'Team' });
    expect(record?.history).toEqual([{ status: 'received', at: '2026-01-01T00:00:00.000Z', attempt: 1 }]);
  });

  it('applies legal transitions and keeps the history', async () => {
    await store.create(submission(2));
    await store.transition(2, 1, 'queued', { at: 't1' });
    const record = await store.transition(2, 1, 'running', { at: 't2', patch: { progress: { done: 1, total: 20 } } });
    expect(record.status).toBe('running');
    expect(record.progress).toEqual({ done: 1, total: 20 });
    expect(record.history.map((h) => h.status)).toEqual(['received', 'queued', 'running']);
  });

  it('refuses an illegal transition and leaves the record as it was', async () => {
    await store.create(submission(3));
    await store.transition(3, 1, 'queued', { at: 't1' });
    await store.transition(3, 1, 'cancelled', { at: 't2', reason: 'participant' });
    await expect(store.transition(3, 1, 'finished', { at: 't3' })).rejects.toThrow(IllegalTransitionError);
    await expect(store.transition(3, 1, 'running', { at: 't3' })).rejects.toThrow(
      'a submission cannot go from cancelled to running',
    );
    expect((await store.get(3))?.status).toBe('cancelled');
  });

  it('refuses writes from a replaced attempt', async () => {
    await store.create(submission(4));
    await expect(store.transition(4, 2, 'queued', { at: 't' })).rejects.toThrow(StaleAttemptError);
    await expect(store.patch(4, 2, { progress: { done: 0, total: 1 } }, 't')).rejects.toThrow(StaleAttemptError);
  });

  it('resumes only a failed attempt, once', async () => {
    await store.create(submission(5));
    expect(await store.beginResume(submission(5, { attempt: 2, executionId: 'exec-r' }), 1)).toBe(false); // not failed
    await store.transition(5, 1, 'failed', {
      at: 't',
      reason: 'crashed',
      patch: { evalaiReported: true, outcome: { status: 'failed' } },
    });
    expect(await store.beginResume(submission(5, { attempt: 2, executionId: 'exec-r' }), 1)).toBe(true);
    expect(await store.beginResume(submission(5, { attempt: 2, executionId: 'exec-s' }), 1)).toBe(false); // duplicate
    const record = await store.get(5);
    expect(record).toMatchObject({ status: 'resuming', attempt: 2, executionId: 'exec-r' });
    expect(record?.evalaiReported).toBeUndefined();
    expect(record?.outcome).toBeUndefined();
  });

  it('lists the submissions that need attention: not terminal, or terminal and not yet on EvalAI', async () => {
    const active = (await store.listActive()).map((r) => r.submissionPk).sort();
    expect(active).toEqual([1, 2, 3, 4, 5]); // 3 is cancelled, but EvalAI has not been told
    await store.markReported(3, 1, 't');
    expect((await store.listActive()).map((r) => r.submissionPk).sort()).toEqual([1, 2, 4, 5]);
    expect((await store.get(3))?.evalaiReported).toBe(true);
  });

  it('lists every submission’s record, newest first, and nothing else the table holds', async () => {
    await store.countResend(2, 1, '2026-12-01T00:00:00Z'); // an item of another kind
    const all = (await store.listAll()).map((r) => r.submissionPk);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(all).toEqual(expect.arrayContaining([1, 2, 3, 4, 5]));
    expect(new Set(all).size).toBe(all.length);
  });

  it('writes only while the record is as it was read, when asked to', async () => {
    await store.create(submission(6));
    await store.transition(6, 1, 'queued', { at: 't1' });
    await store.patch(6, 1, { executionId: 'exec-handed-over' }, 't2');
    const stale = { status: 'queued' as const, executionId: 'exec-1' };
    await expect(store.transition(6, 1, 'failed', { at: 't3', expect: stale })).rejects.toThrow(RecordChangedError);
    expect((await store.get(6))?.status).toBe('queued');
    const fresh = { status: 'queued' as const, executionId: 'exec-handed-over' };
    const failed = await store.transition(6, 1, 'failed', { at: 't3', expect: fresh, patch: { evalaiReported: true } });
    expect(failed.status).toBe('failed');
    expect((await store.listActive()).map((r) => r.submissionPk)).not.toContain(6);
  });

  it('hands out copies: changing a record read does not change the store', async () => {
    await store.create(submission(7));
    const record = (await store.get(7)) as unknown as { teamName: string; history: unknown[] };
    record.teamName = 'changed';
    record.history.push({});
    expect(await store.get(7)).toMatchObject({ teamName: 'Team', history: [expect.anything()] });
  });

  it('counts re-sent messages per attempt', async () => {
    expect(await store.countResend(8, 1, '2026-01-01T00:00:00.000Z')).toBe(1);
    expect(await store.countResend(8, 1, '2026-01-01T00:00:00.000Z')).toBe(2);
    expect(await store.countResend(8, 2, '2026-01-01T00:00:00.000Z')).toBe(1);
  });

  it("reads the workers' heartbeats that logcopy wrote, and ignores a malformed one", async () => {
    const heartbeat = {
      worker: 0,
      attempt: 1,
      heartbeatAt: '2026-01-01T00:01:00.000Z',
      lastOutputAt: '2026-01-01T00:00:30.000Z',
    };
    if (store instanceof MemorySubmissionStore) {
      store.recordActivity(9, heartbeat);
    } else {
      await client.send(
        new PutCommand({ TableName: TABLE, Item: { pk: workerActivityKey(9, 0), ...heartbeat, done: 1 } }),
      );
      await client.send(new PutCommand({ TableName: TABLE, Item: { pk: workerActivityKey(9, 1), worker: 'one' } }));
    }
    expect(await store.workerActivity(9, [0, 1, 2])).toEqual([heartbeat]);
    expect(await store.workerActivity(9, [])).toEqual([]);
  });

  it('hands a challenge’s status watch to one claimant at a time, until its claim runs out', async () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    expect(await store.claimStatusWatch(31, t(0), t(30))).toBe(true);
    expect(await store.claimStatusWatch(31, t(1), t(31))).toBe(false);
    expect(await store.claimStatusWatch(32, t(1), t(31))).toBe(true); // another challenge's watch
    expect(await store.claimStatusWatch(31, t(29), t(59))).toBe(false);
    expect(await store.claimStatusWatch(31, t(30), t(60))).toBe(true);
    const claims = await Promise.all([1, 2, 3].map(() => store.claimStatusWatch(31, t(61), t(91))));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('records qualifications', async () => {
    expect(await store.hasQualification(3, 'SENSORS')).toBe(false);
    await store.grantQualification(3, 'SENSORS', 9, 't');
    expect(await store.hasQualification(3, 'SENSORS')).toBe(true);
  });
});
