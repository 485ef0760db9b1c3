import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { routesFile } from '@pitwall/carla-routes';
import fc from 'fast-check';
import {
  expandRoutesSubset,
  parseRouteFile,
  planRoutes,
  RouteFileError,
  type RouteInfo,
  routesSubset,
} from '../../src/index.js';

const validation = parseRouteFile(readFileSync(routesFile('validation'), 'utf8'));
const training = parseRouteFile(readFileSync(routesFile('training'), 'utf8'));

function routes(lengths: readonly number[]): RouteInfo[] {
  return lengths.map((length, position) => ({ id: String(position), town: 'Town12', length, position }));
}

function route(id: string, waypoints: string): string {
  return `<route id="${id}" town="Town12"><waypoints>${waypoints}</waypoints></route>`;
}

describe('parseRouteFile', () => {
  it('reads the public CARLA route files', () => {
    expect(validation.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(training).toHaveLength(90);
    expect(validation[0]?.town).toBe('Town13');
    for (const r of [...validation, ...training]) expect(r.length).toBeGreaterThan(100);
  });

  it('parses a file once while it is among the last few seen, and hands out frozen routes', () => {
    const xml = readFileSync(routesFile('devtest'), 'utf8');
    const first = parseRouteFile(xml);
    expect(parseRouteFile(`${xml}`)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first[0])).toBe(true);
    for (let i = 0; i < 4; i += 1)
      parseRouteFile(
        `<routes>${route(String(i), '<position x="0" y="0" z="0"/><position x="1" y="0" z="0"/>')}</routes>`,
      );
    expect(parseRouteFile(xml)).not.toBe(first);
    expect(parseRouteFile(xml)).toEqual(first);
  });

  it('measures a route along its waypoints in three dimensions', () => {
    const xml = `<routes>${route('4', '<position x="0" y="0" z="0"/><position x="3" y="4" z="0"/><position x="3" y="4" z="12"/>')}</routes>`;
    expect(parseRouteFile(xml)).toEqual([{ id: '4', town: 'Town12', length: 17, position: 0 }]);
  });

  const two = '<position x="0" y="0" z="0"/><position x="1" y="0" z="0"/>';
  it.each([
    ['not XML', '<routes><route', /not valid XML/],
    ['no routes', '<routes></routes>', /has no <route>/],
    ['another root', `<tracks>${route('1', two)}</tracks>`, /has no <route>/],
    ['a duplicate id', `<routes>${route('1', two)}${route('1', two)}</routes>`, /route id 1 appears twice/],
    ['an id that is not a number', `<routes>${route('a,b', two)}</routes>`, /has id "a,b", not a number/],
    [
      'a single waypoint',
      `<routes>${route('1', '<position x="0" y="0" z="0"/>')}</routes>`,
      /fewer than two waypoints/,
    ],
    [
      'a bad coordinate',
      `<routes>${route('1', '<position x="zero" y="0" z="0"/><position x="1" y="0" z="0"/>')}</routes>`,
      /coordinate "zero"/,
    ],
  ])('rejects %s', (_case, xml, message) => {
    expect(() => parseRouteFile(xml)).toThrow(RouteFileError);
    expect(() => parseRouteFile(xml)).toThrow(message);
  });
});

describe('planRoutes, contiguous (leaderboard-cloud parity)', () => {
  it('splits 20 routes over 4 workers as 0-4, 5-9, 10-14, 15-19', () => {
    const plan = planRoutes(validation, { workers: 4, strategy: 'contiguous' });
    expect(plan.workers.map((w) => w.routesSubset)).toEqual(['0-4', '5-9', '10-14', '15-19']);
  });

  it('uses ceil(i * step) boundaries when the routes do not divide evenly', () => {
    const plan = planRoutes(validation, { workers: 3, strategy: 'contiguous' });
    expect(plan.workers.map((w) => w.routesSubset)).toEqual(['0-6', '7-13', '14-19']);
  });

  it('never uses more workers than routes, and records the count it used', () => {
    const plan = planRoutes(routes([5, 6]), { workers: 8, strategy: 'contiguous' });
    expect(plan.requestedWorkers).toBe(8);
    expect(plan.workerCount).toBe(2);
    expect(plan.workers.map((w) => w.routeIds)).toEqual([['0'], ['1']]);
  });

  it('rejects a worker count below one', () => {
    expect(() => planRoutes(validation, { workers: 0 })).toThrow(RangeError);
    expect(() => planRoutes([], { workers: 2 })).toThrow('there are no routes to plan');
  });
});

describe('planRoutes, balanced', () => {
  it('puts the longest routes on different workers', () => {
    const plan = planRoutes(routes([10, 1, 1, 10, 1, 1]), { workers: 2 });
    expect(plan.workers.map((w) => w.length)).toEqual([12, 12]);
    expect(plan.makespan).toBe(12);
  });

  it('beats the contiguous split on the validation routes with 8 workers', () => {
    const contiguous = planRoutes(validation, { workers: 8, strategy: 'contiguous' });
    const balanced = planRoutes(validation, { workers: 8 });
    expect(balanced.makespan).toBeLessThan(contiguous.makespan);
    expect(balanced.makespan).toBeGreaterThanOrEqual(balanced.lowerBound);
  });

  it('is deterministic', () => {
    expect(planRoutes(training, { workers: 8 })).toEqual(planRoutes(training, { workers: 8 }));
  });

  const anyRoutes = fc.array(fc.double({ min: 1, max: 20_000, noNaN: true }), { minLength: 1, maxLength: 60 });
  const anyWorkers = fc.integer({ min: 1, max: 16 });

  it('assigns every route exactly once, in file order within a worker (property)', () => {
    fc.assert(
      fc.property(
        anyRoutes,
        anyWorkers,
        fc.constantFrom('balanced', 'contiguous' as const),
        (lengths, workers, strategy) => {
          const plan = planRoutes(routes(lengths), { workers, strategy });
          const ids = plan.workers.flatMap((w) => w.routeIds);
          expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(lengths.map((_, i) => String(i)));
          for (const w of plan.workers)
            expect(w.routeIds).toEqual([...w.routeIds].sort((a, b) => Number(a) - Number(b)));
          expect(plan.workers).toHaveLength(Math.min(workers, lengths.length));
        },
      ),
    );
  });

  it('is never worse than contiguous, nor better than the lower bound (property)', () => {
    fc.assert(
      fc.property(anyRoutes, anyWorkers, (lengths, workers) => {
        const balanced = planRoutes(routes(lengths), { workers });
        const contiguous = planRoutes(routes(lengths), { workers, strategy: 'contiguous' });
        expect(balanced.makespan).toBeLessThanOrEqual(contiguous.makespan);
        expect(balanced.makespan).toBeGreaterThanOrEqual(balanced.lowerBound * (1 - 1e-12));
      }),
    );
  });
});

describe('routesSubset', () => {
  it('writes neighbouring routes as ranges and the rest as a list', () => {
    const rs = routes([1, 1, 1, 1, 1, 1, 1, 1]);
    const pick = (positions: number[]) => routesSubset(positions.map((p) => rs[p] as RouteInfo));
    expect(pick([0, 1, 2, 5, 7])).toBe('0-2,5,7');
    expect(pick([3])).toBe('3');
    expect(pick([6, 7])).toBe('6-7');
  });

  it('covers exactly the worker’s routes when the evaluator expands it (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 40 }), { minLength: 1 }), (positions) => {
        const rs = routes(Array.from({ length: 41 }, () => 1));
        const chosen = [...positions].sort((a, b) => a - b).map((p) => rs[p] as RouteInfo);
        expect(expandRoutesSubset(rs, routesSubset(chosen))).toEqual(chosen);
      }),
    );
  });
});
