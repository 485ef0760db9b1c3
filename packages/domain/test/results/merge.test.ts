import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type Checkpoint,
  CheckpointRejectedError,
  formatMergedCheckpoint,
  INFRACTION_KEYS,
  MergeError,
  mergeCheckpoints,
  mergeWorkerCheckpoints,
  parseCheckpoint,
  type RouteRecord,
} from '../../src/index.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const load = (name: string): Checkpoint | undefined => parseCheckpoint(fixture(name));

// Golden files: the merged output of CPython running the leaderboard-2.0 merge semantics on the
// fixtures, written with json.dump(indent=4, sort_keys=True). Compared byte for byte.
describe('mergeCheckpoints against the official merge, byte for byte', () => {
  it.each([
    ['two-workers', 2, 'complete, with a crashed route, a timed-out route and an off-road message'],
    ['incomplete', 2, 'one worker still has a route to go'],
    ['repetitions', 2, 'two routes with two repetitions each'],
    ['single', 1, 'a single route'],
  ])('%s (%s files: %s)', (name, files) => {
    const inputs = Array.from({ length: files }, (_, i) => load(`${name}-${i}.json`));
    expect(formatMergedCheckpoint(mergeCheckpoints(inputs))).toBe(fixture(`${name}.merged.json`));
  });

  it('computes the documented numbers for two workers', () => {
    const merged = mergeCheckpoints([load('two-workers-0.json'), load('two-workers-1.json')]);
    const global = merged._checkpoint.global_record;
    // (100 + 60 + 32.986419 + 10.5) / 4 = 50.87160475 -> 50.871605
    expect(global?.scores_mean.score_composed).toBe(50.871605);
    // one vehicle collision over 1.234567 + 2.087004 + 3.99181 * 0.47123456 + 0.5032 * 0.105 km
    expect(global?.infractions.collisions_vehicle).toBe(0.19);
    // off-road: 12.345 m from the message, in km, not divided by the distance driven
    expect(global?.infractions.outside_route_lanes).toBe(0.012);
    expect(merged.entry_status).toBe('Crashed');
    expect(merged.eligible).toBe(false);
    expect(global?.meta.exceptions).toEqual([
      ['RouteScenario_2_rep0', 2, 'Failed - Agent timed out'],
      ['RouteScenario_3_rep0', 3, 'Failed - Simulation crashed'],
    ]);
    expect(merged._checkpoint.records.map((r) => [r.index, r.route_id])).toEqual([
      [0, 'RouteScenario_0_rep0'],
      [1, 'RouteScenario_1_rep0'],
      [2, 'RouteScenario_2_rep0'],
      [3, 'RouteScenario_3_rep0'],
    ]);
  });

  it('leaves global statistics out while a worker is incomplete', () => {
    const merged = mergeCheckpoints([load('incomplete-0.json'), load('incomplete-1.json')]);
    expect(merged._checkpoint.progress).toEqual([2, 3]);
    expect(merged._checkpoint.global_record).toBeUndefined();
    expect(merged.entry_status).toBe('Started');
    expect(merged.values).toEqual([]);
  });

  it('writes the standard deviation as the int 0 for a single route, as Python does', () => {
    const text = formatMergedCheckpoint(mergeCheckpoints([load('single-0.json')]));
    expect(text).toContain('"scores_std_dev": {\n                "score_composed": 0,');
  });

  it('skips empty files', () => {
    const merged = mergeCheckpoints([undefined, load('single-0.json'), parseCheckpoint('')]);
    expect(merged.entry_status).toBe('Finished');
    expect(merged.eligible).toBe(true);
  });

  it('stops on different sensor configurations', () => {
    const other = { ...(load('two-workers-1.json') as Checkpoint), sensors: ['carla_lidar'] };
    expect(() => mergeCheckpoints([load('two-workers-0.json'), other])).toThrow(
      new MergeError('Stopping. Found two files with different sensor configurations'),
    );
  });

  it('stops on a route recorded twice across files', () => {
    const a = load('single-0.json');
    expect(() => mergeCheckpoints([a, a])).toThrow(
      'Stopping. Found that the route RouteScenario_0_rep0 has more than one record',
    );
  });

  it('stops on a gap in the route ids, including ids that do not start at 0 (the official check walks from 0)', () => {
    const records = (load('single-0.json') as Checkpoint)._checkpoint.records;
    const moved = withRecords([{ ...(records[0] as RouteRecord), route_id: 'RouteScenario_7_rep0' }]);
    expect(() => mergeCheckpoints([moved])).toThrow(
      'Stopping. Missing some data as the ids jumped from  to RouteScenario_7_rep0',
    );
  });

  it('marks the result Invalid when no file declares sensors', () => {
    const merged = mergeCheckpoints([{ ...(load('single-0.json') as Checkpoint), sensors: [] }]);
    expect(merged.entry_status).toBe('Invalid');
    expect(merged.values).toHaveLength(15);
  });

  it('lets a later sensor failure override an earlier crash in the entry status, like the evaluator loop', () => {
    const [first, second] = (load('repetitions-0.json') as Checkpoint)._checkpoint.records as [
      RouteRecord,
      RouteRecord,
    ];
    const merged = mergeCheckpoints([
      withRecords([
        { ...first, status: 'Failed - Simulation crashed' },
        { ...second, status: "Failed - Agent's sensors were invalid" },
      ]),
    ]);
    expect(merged.entry_status).toBe('Rejected');
  });
});

describe('merge properties', () => {
  const anyRecord = (route: number, rep: number) =>
    fc
      .record({
        route: fc.double({ min: 0, max: 100, noNaN: true }),
        penalty: fc.double({ min: 0, max: 1, noNaN: true }),
        length: fc.double({ min: 0, max: 20_000, noNaN: true }),
        collisions: fc.nat({ max: 3 }),
        failed: fc.boolean(),
      })
      .map(({ route: score, penalty, length, collisions, failed }) =>
        record(route, rep, {
          score,
          penalty,
          length,
          collisions,
          status: failed ? 'Failed - Agent crashed' : 'Completed',
        }),
      );
  const anyRun = fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }))
    .chain(([routes, reps]) =>
      fc.tuple(...Array.from({ length: routes * reps }, (_, i) => anyRecord(Math.floor(i / reps), i % reps))),
    );

  it('merging any split of the records equals merging them whole', () => {
    fc.assert(
      fc.property(anyRun, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (records, cuts) => {
        const whole = formatMergedCheckpoint(mergeCheckpoints([withRecords(records)]));
        const parts = splitAt(records, cuts).map(withRecords);
        expect(formatMergedCheckpoint(mergeCheckpoints(parts))).toBe(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('the order of the files does not matter', () => {
    fc.assert(
      fc.property(anyRun, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.nat(), (records, cuts, seed) => {
        const parts = splitAt(records, cuts).map(withRecords);
        const shuffled = [...parts].sort((a, b) => hash(a, seed) - hash(b, seed));
        expect(formatMergedCheckpoint(mergeCheckpoints(shuffled))).toBe(
          formatMergedCheckpoint(mergeCheckpoints(parts)),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('mergeWorkerCheckpoints', () => {
  const assignment = (routeIds: string[]) => ({ routeIds, repetitions: 1 });

  it('reports a rejected file as its worker’s failure and merges the rest', () => {
    const report = mergeWorkerCheckpoints([
      { worker: '0', raw: fixture('two-workers-0.json'), assignment: assignment(['0', '1']) },
      { worker: '1', raw: '{"_checkpoint": ', assignment: assignment(['2', '3']) },
    ]);
    expect(report.rejected).toHaveLength(1);
    expect(report.rejected[0]?.worker).toBe('1');
    expect(report.rejected[0]?.error).toBeInstanceOf(CheckpointRejectedError);
    expect(report.merged._checkpoint.records).toHaveLength(2);
  });

  it('does not score the submission on the routes that happen to be there', () => {
    const files = [
      { worker: '0', raw: fixture('two-workers-0.json'), assignment: assignment(['0', '1']) },
      { worker: '1', raw: undefined, assignment: assignment(['2', '3']) },
    ];
    // The Python script would compute "Finished" global statistics over routes 0 and 1 alone.
    expect(mergeWorkerCheckpoints(files).complete).toBe(true);
    const guarded = mergeWorkerCheckpoints(files, { expectedRoutes: 4 });
    expect(guarded.complete).toBe(false);
    expect(guarded.merged.entry_status).toBe('Started');
    expect(guarded.merged._checkpoint.progress).toEqual([2, 2]);
  });

  it('rejects records for routes the worker was not given', () => {
    const report = mergeWorkerCheckpoints([
      { worker: '1', raw: fixture('two-workers-1.json'), assignment: assignment(['2', '4']) },
    ]);
    expect(report.rejected[0]?.error.message).toBe(
      "checkpoint rejected: _checkpoint.records[0].route_id: RouteScenario_3_rep0 is not one of this worker's routes",
    );
  });
});

interface RecordShape {
  score: number;
  penalty: number;
  length: number;
  collisions: number;
  status: string;
}

function record(route: number, rep: number, shape: RecordShape): RouteRecord {
  const infractions = Object.fromEntries(INFRACTION_KEYS.map((k) => [k, [] as string[]])) as RouteRecord['infractions'];
  infractions.collisions_vehicle = Array.from({ length: shape.collisions }, (_, i) => `collision ${i}`);
  return {
    index: 0,
    route_id: `RouteScenario_${route}_rep${rep}`,
    status: shape.status,
    num_infractions: shape.collisions,
    infractions,
    scores: { score_route: shape.score, score_penalty: shape.penalty, score_composed: shape.score * shape.penalty },
    meta: { route_length: shape.length, duration_game: 10, duration_system: 40 },
  };
}

function withRecords(records: readonly RouteRecord[]): Checkpoint {
  return {
    _checkpoint: { global_record: {}, progress: [records.length, records.length], records: [...records] },
    entry_status: 'Started',
    eligible: false,
    sensors: ['carla_camera'],
    values: [],
    labels: [],
  };
}

function splitAt<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const positions = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const parts: T[][] = [];
  let start = 0;
  for (const end of [...positions, items.length]) {
    parts.push(items.slice(start, end));
    start = end;
  }
  return parts.filter((part) => part.length > 0);
}

function hash(checkpoint: Checkpoint, seed: number): number {
  const id = checkpoint._checkpoint.records[0]?.route_id ?? '';
  let h = seed;
  for (const char of id) h = (h * 31 + char.charCodeAt(0)) % 1_000_003;
  return h;
}
