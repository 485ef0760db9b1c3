import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdmissionClaim, AdmissionLedger } from '@pitwall/domain';
import { MemoryAdmissionLedger } from '@pitwall/domain/testing';
import { type RunningServer, startDynamoDb } from '@pitwall/emulators';
import { createDocumentClient, DynamoDbAdmissionLedger, submissionsTable } from '../src/index.js';

// One contract, two ledgers: the in-memory one the unit tier uses gives out exactly what DynamoDB's does.
let dynamo: RunningServer;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynamoDb();
});
afterAll(() => dynamo.close());

async function dynamoLedger(): Promise<AdmissionLedger> {
  const name = `ledger-${++tables}`;
  const raw = new DynamoDBClient({
    region: 'eu-west-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await raw.send(new CreateTableCommand(submissionsTable(name)));
  raw.destroy();
  const documents = createDocumentClient({
    region: 'eu-west-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  return new DynamoDbAdmissionLedger(documents, name);
}

const claim = (submissionPk: number, teamPk: number, workers = 2, track = 'SENSORS'): AdmissionClaim => ({
  submissionPk,
  attempt: 1,
  teamPk,
  phasePk: 1,
  track,
  workers,
});
const limits = { trackWorkers: 4, teamPlaces: 1 };
const T0 = '2026-12-03T10:00:00.000Z';
const later = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

describe.each([
  ['DynamoDbAdmissionLedger against dynalite', dynamoLedger],
  ['MemoryAdmissionLedger', async (): Promise<AdmissionLedger> => new MemoryAdmissionLedger()],
] as const)('the admission ledger contract: %s', (_, makeLedger) => {
  it('gives out no more than a track’s workers or a team’s places, and nothing twice', async () => {
    const ledger = await makeLedger();
    expect(await ledger.take(claim(1, 10), limits, T0)).toBe(true);
    expect(await ledger.take(claim(1, 10), limits, T0)).toBe(true); // holds them already: its admission, taken once
    expect(await ledger.take({ ...claim(1, 10), attempt: 2 }, limits, T0)).toBe(false); // another attempt's
    expect(await ledger.take(claim(2, 10), limits, T0)).toBe(false); // its team's one place is taken
    expect(await ledger.take(claim(3, 11, 3), limits, T0)).toBe(false); // 2 + 3 workers > 4
    expect(await ledger.take(claim(4, 11), limits, T0)).toBe(true);
    expect(await ledger.take(claim(5, 12, 1, 'MAP'), { trackWorkers: 1, teamPlaces: 1 }, T0)).toBe(true);
    expect((await ledger.read()).holdings.map((h) => h.submissionPk).sort()).toEqual([1, 4, 5]);
  });

  it('answers a take tried again after its answer was lost as the admission it was, counting it once', async () => {
    const ledger = await makeLedger();
    await ledger.take(claim(1, 10), limits, T0); // applied; its answer lost on the way back
    expect(await ledger.take(claim(1, 10), limits, later(5))).toBe(true);
    const { holdings } = await ledger.read();
    expect(holdings).toEqual([{ ...claim(1, 10), takenAt: T0 }]);
    expect(await ledger.take(claim(2, 11), limits, T0)).toBe(true); // 2 + 2 workers: the first counted once
  });

  it('takes slots from concurrent schedulers exactly up to the limit', async () => {
    const ledger = await makeLedger();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ledger.take(claim(100 + i, 200 + i, 1), { trackWorkers: 3, teamPlaces: 1 }, T0),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
  });

  it('releases once, adding the GPU-seconds held to the team’s use, decayed', async () => {
    const ledger = await makeLedger();
    await ledger.take(claim(1, 10), limits, T0);
    expect(await ledger.release(1, 2, later(100), 3600)).toBe(false); // not this attempt's
    expect(await ledger.release(1, 1, later(100), 3600)).toBe(true);
    expect(await ledger.release(1, 1, later(100), 3600)).toBe(false);
    expect((await ledger.read()).usage.get(10)).toEqual({ gpuSeconds: 200, at: Date.parse(later(100)) });
    expect(await ledger.take(claim(2, 10, 4), limits, later(100))).toBe(true); // room again, all of it
    await ledger.release(2, 1, later(3700), 3600); // an hour later: the first 200 count half
    expect((await ledger.read()).usage.get(10)?.gpuSeconds).toBeCloseTo(100 + 4 * 3600, 6);
  });
});
