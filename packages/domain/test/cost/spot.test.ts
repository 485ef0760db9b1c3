import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  capacityAfter,
  costOf,
  type RouteInfo,
  type SpotSimulationOptions,
  simulateSubmission,
} from '../../src/index.js';

const routes: RouteInfo[] = Array.from({ length: 12 }, (_, i) => ({
  id: String(i),
  town: 'Town12',
  length: 2000 + 500 * i,
  position: i,
}));
const options = (overrides: Partial<SpotSimulationOptions> = {}): SpotSimulationOptions => ({
  workers: 3,
  kmPerGpuHour: 4,
  podStartSeconds: 360,
  interruptionsPerHour: 0,
  maxInterruptions: 2,
  price: { onDemand: 1.2, spot: 0.4 },
  random: () => 0.5,
  ...overrides,
});

describe('what GPU time costs', () => {
  it('prices each pod by its instance type and capacity, and gives none for a type the table lacks', () => {
    const prices = { 'g5.xlarge': { onDemand: 1, spot: 0.3 } };
    expect(
      costOf(
        [
          { gpuSeconds: 3600, instanceType: 'g5.xlarge', capacityType: 'on-demand' },
          { gpuSeconds: 1800, instanceType: 'g5.xlarge', capacityType: 'spot' },
        ],
        prices,
      ),
    ).toBeCloseTo(1.15);
    expect(costOf([{ gpuSeconds: 1, instanceType: 'p4d.24xlarge', capacityType: 'spot' }], prices)).toBeUndefined();
  });

  it('keeps a spot-first worker on spot until it has been interrupted more than the limit', () => {
    const spotFirst = { capacity: 'spot-first', maxInterruptions: 2 } as const;
    expect(capacityAfter(spotFirst, 2)).toBe('spot');
    expect(capacityAfter(spotFirst, 3)).toBe('on-demand');
    expect(capacityAfter({ ...spotFirst, capacity: 'spot' }, 30)).toBe('spot');
    expect(capacityAfter({ ...spotFirst, capacity: 'on-demand' }, 0)).toBe('on-demand');
  });

  it('moves a spot-first worker that loses its node near its deadline to on demand at once', () => {
    const nearDeadline = { capacity: 'spot-first', maxInterruptions: 5, onDemandWithinSeconds: 3600 } as const;
    expect(capacityAfter(nearDeadline, 1, 3599)).toBe('on-demand');
    expect(capacityAfter(nearDeadline, 1, 3600)).toBe('spot');
    // Never interrupted: it stays where it runs, however close the deadline.
    expect(capacityAfter(nearDeadline, 0, 10)).toBe('spot');
    expect(capacityAfter({ ...nearDeadline, capacity: 'spot' }, 1, 10)).toBe('spot');
  });
});

describe('a submission simulated on spot', () => {
  it('without reclaims takes the on-demand hours at the spot price', () => {
    const onDemand = simulateSubmission(routes, 'on-demand', options());
    const spot = simulateSubmission(routes, 'spot', options());
    expect(spot.makespanHours).toBeCloseTo(onDemand.makespanHours);
    expect(spot.usd / onDemand.usd).toBeCloseTo(0.4 / 1.2);
    expect(onDemand.workers.every((w) => w.routesCompleted === 4)).toBe(true);
  });

  it('completes every route once whatever the reclaims, paying each loss a pod start and the route in flight', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 3, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (rate, start) => {
          let seed = start;
          const random = () => {
            seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
            return seed / 2 ** 31;
          };
          const onDemand = simulateSubmission(routes, 'on-demand', options());
          const spot = simulateSubmission(routes, 'spot-first', options({ interruptionsPerHour: rate, random }));
          expect(spot.workers.map((w) => w.routesCompleted)).toEqual(onDemand.workers.map((w) => w.routesCompleted));
          for (const [i, w] of spot.workers.entries()) {
            const steady = onDemand.workers[i]?.finishedAfterHours ?? 0;
            expect(w.finishedAfterHours).toBeGreaterThanOrEqual(steady - 1e-9);
            // After more than the limit the worker is on demand, where nothing reclaims it.
            expect(w.interruptions).toBeLessThanOrEqual(2 + 1);
            expect(w.spotHours + w.onDemandHours).toBeCloseTo(w.finishedAfterHours);
          }
        },
      ),
    );
  });
});
