import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CheckpointRejectedError, parseCheckpoint, validateCheckpoint } from '../../src/index.js';

const base = JSON.parse(readFileSync(new URL('./fixtures/two-workers-0.json', import.meta.url), 'utf8'));
const worker0 = { routeIds: ['0', '1'], repetitions: 1 };

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely to break them.
type Doc = any;

/** A deep copy of the fixture with one change applied. */
function variant(change: (doc: Doc) => void): unknown {
  const doc = structuredClone(base);
  change(doc);
  return doc;
}

function rejection(doc: unknown, assignment = worker0): string {
  try {
    validateCheckpoint(doc, { assignment });
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointRejectedError);
    return (error as Error).message;
  }
  throw new Error('expected the checkpoint to be rejected');
}

describe('parseCheckpoint', () => {
  it('accepts the evaluator’s file', () => {
    const checkpoint = parseCheckpoint(JSON.stringify(base), { assignment: worker0 });
    expect(checkpoint?._checkpoint.records).toHaveLength(2);
  });

  it('treats an empty file or {} as not written yet', () => {
    expect(parseCheckpoint('')).toBeUndefined();
    expect(parseCheckpoint('  \n')).toBeUndefined();
    expect(parseCheckpoint('{}')).toBeUndefined();
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseCheckpoint('{"_checkpoint": [')).toThrow('checkpoint rejected: (file): is not valid JSON');
  });

  it('rejects files over the size limit before parsing them', () => {
    expect(() => parseCheckpoint(JSON.stringify(base), { maxBytes: 100 })).toThrow(/over the 100-byte limit/);
  });

  it.each<[string, (doc: Doc) => void, string]>([
    [
      'a score above 100',
      (d) => {
        d._checkpoint.records[1].scores.score_route = 100.5;
      },
      '_checkpoint.records[1].scores.score_route: must be between 0 and 100',
    ],
    [
      'a negative composed score',
      (d) => {
        d._checkpoint.records[0].scores.score_composed = -1;
      },
      '_checkpoint.records[0].scores.score_composed: must be between 0 and 100',
    ],
    [
      'a penalty above 1',
      (d) => {
        d._checkpoint.records[0].scores.score_penalty = 1.2;
      },
      '_checkpoint.records[0].scores.score_penalty: must be between 0 and 1',
    ],
    [
      'a score given as a string',
      (d) => {
        d._checkpoint.records[0].scores.score_route = '100';
      },
      '_checkpoint.records[0].scores.score_route: must be a number',
    ],
    [
      'a malformed route id',
      (d) => {
        d._checkpoint.records[0].route_id = 'Route0';
      },
      '_checkpoint.records[0].route_id: must look like RouteScenario_<n>_rep<r>',
    ],
    [
      'an unknown status',
      (d) => {
        d._checkpoint.records[0].status = 'Great';
      },
      '_checkpoint.records[0].status: must be Perfect',
    ],
    [
      'a missing infraction list',
      (d) => {
        delete d._checkpoint.records[0].infractions.red_light;
      },
      '_checkpoint.records[0].infractions.red_light',
    ],
    [
      'an infraction that is not a message list',
      (d) => {
        d._checkpoint.records[0].infractions.red_light = 3;
      },
      '_checkpoint.records[0].infractions.red_light: must be a list of messages',
    ],
    [
      'progress that is not a pair',
      (d) => {
        d._checkpoint.progress = [2];
      },
      '_checkpoint.progress: must be [done, total]',
    ],
    [
      'an unknown entry status',
      (d) => {
        d.entry_status = 'Done';
      },
      'entry_status: must be one of Started, Finished, Rejected, Crashed, Invalid',
    ],
    [
      'sensors that are not strings',
      (d) => {
        d.sensors = [1];
      },
      'sensors[0]',
    ],
    [
      'a route not assigned to the worker',
      (d) => {
        d._checkpoint.records[1].route_id = 'RouteScenario_9_rep0';
      },
      "RouteScenario_9_rep0 is not one of this worker's routes",
    ],
    [
      'a repetition beyond the assignment',
      (d) => {
        d._checkpoint.records[1].route_id = 'RouteScenario_0_rep1';
      },
      'RouteScenario_0_rep1 is beyond 1 repetition(s)',
    ],
    [
      'a route recorded twice',
      (d) => {
        d._checkpoint.records[1].route_id = 'RouteScenario_0_rep0';
      },
      'RouteScenario_0_rep0 appears twice',
    ],
    [
      'more done than assigned',
      (d) => {
        d._checkpoint.progress = [3, 2];
      },
      '_checkpoint.progress: says 3 routes done out of 2',
    ],
    [
      'more records than routes',
      (d) => {
        d._checkpoint.progress = [1, 1];
      },
      'says 1 routes in all but the file has 2 records',
    ],
    [
      'a total that is not the assignment',
      (d) => {
        d._checkpoint.progress = [2, 3];
      },
      'says 3 routes in all but the worker was assigned 2 route(s) × 1',
    ],
    [
      'progress far behind the records',
      (d) => {
        d._checkpoint.progress = [0, 2];
      },
      'says 0 routes done but the file has 2 records',
    ],
    [
      'a global record before the end',
      (d) => {
        d._checkpoint.records.pop();
        d._checkpoint.progress = [1, 2];
        d._checkpoint.global_record = { status: 'Perfect' };
      },
      '_checkpoint.global_record: is filled in before every route is done',
    ],
    [
      'Finished before the end',
      (d) => {
        d._checkpoint.records.pop();
        d._checkpoint.progress = [1, 2];
        d.entry_status = 'Finished';
      },
      'entry_status: is Finished before every route is done',
    ],
    [
      'an off-road message without a distance',
      (d) => {
        d._checkpoint.records[0].infractions.outside_route_lanes = ['went off road'];
      },
      '_checkpoint.records[0].infractions.outside_route_lanes[0]: does not give the distance',
    ],
    [
      'a forged composed score (route 2.7 × penalty 0.6 is not 100)',
      (d) => {
        d._checkpoint.records[1].scores = { score_route: 2.7, score_penalty: 0.6, score_composed: 100 };
      },
      '_checkpoint.records[1].scores.score_composed: is 100, but score_route 2.7 × score_penalty 0.6 is 1.62',
    ],
    [
      'a penalty its infractions do not allow (one vehicle collision: at most 0.6)',
      (d) => {
        d._checkpoint.records[1].scores = { score_route: 100, score_penalty: 0.9, score_composed: 90 };
      },
      '_checkpoint.records[1].scores.score_penalty: is 0.9, more than the 0.6 the infractions it lists allow',
    ],
    [
      'a penalty on a route that lists no infraction',
      (d) => {
        d._checkpoint.records[0].scores = { score_route: 100, score_penalty: 0.5, score_composed: 50 };
      },
      '_checkpoint.records[0].scores.score_penalty: is 0.5, but the route lists no infraction',
    ],
    [
      'Perfect with an infraction',
      (d) => {
        d._checkpoint.records[1].status = 'Perfect';
      },
      '_checkpoint.records[1].status: is Perfect, but the route lists infractions (collisions_vehicle)',
    ],
    [
      'Perfect short of the whole route',
      (d) => {
        d._checkpoint.records[0].scores = { score_route: 90, score_penalty: 1, score_composed: 90 };
      },
      '_checkpoint.records[0].status: is Perfect, but score_route is 90',
    ],
    [
      'an infinite duration',
      (d) => {
        d._checkpoint.records[0].meta.duration_game = Number.POSITIVE_INFINITY;
      },
      '_checkpoint.records[0].meta.duration_game',
    ],
  ])('rejects %s, saying where', (_case, change, expected) => {
    expect(rejection(variant(change))).toContain(expected);
  });

  it('accepts scores within CARLA’s rounding, and min-speed events lowering the penalty further', () => {
    const rounded = variant((d) => {
      // 47.1234565 × 0.6 composed from unrounded factors, each rounded to 6 digits
      d._checkpoint.records[1].scores = { score_route: 47.123457, score_penalty: 0.6, score_composed: 28.274074 };
      d._checkpoint.records[1].infractions.min_speed_infractions = ['Agent was too slow (50%)'];
    });
    expect(() => validateCheckpoint(rounded, { assignment: worker0 })).not.toThrow();
  });

  it('rejects a checkpoint that is not an object', () => {
    expect(rejection([])).toContain('checkpoint rejected: (file)');
    expect(rejection('text')).toContain('checkpoint rejected: (file)');
  });

  it('either accepts or rejects with CheckpointRejectedError, never anything else (property)', () => {
    const mutation = fc.record({
      path: fc.constantFrom(
        ['_checkpoint', 'progress'],
        ['_checkpoint', 'records'],
        ['_checkpoint', 'records', 0, 'scores'],
        ['_checkpoint', 'records', 1, 'meta', 'route_length'],
        ['_checkpoint', 'records', 0, 'infractions', 'outside_route_lanes'],
        ['_checkpoint', 'records', 0, 'route_id'],
        ['sensors'],
        ['entry_status'],
      ),
      value: fc.jsonValue({ maxDepth: 3 }),
    });
    fc.assert(
      fc.property(mutation, ({ path, value }) => {
        const doc = structuredClone(base);
        let target = doc;
        for (const key of path.slice(0, -1)) target = target[key as string];
        target[path.at(-1) as string] = value;
        try {
          validateCheckpoint(doc, { assignment: worker0 });
        } catch (error) {
          expect(error).toBeInstanceOf(CheckpointRejectedError);
        }
      }),
    );
  });
});
