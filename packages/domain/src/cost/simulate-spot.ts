import { planRoutes } from '../routes/plan.js';
import type { RouteInfo } from '../routes/route-file.js';
import type { InstancePrice } from './prices.js';
import { type CapacityChoice, capacityAfter, nextRouteAfterLoss } from './spot.js';

export interface SpotSimulationOptions {
  readonly workers: number;
  /** Route kilometres a GPU drives in an hour (measured: kilometresPerGpuHour). */
  readonly kmPerGpuHour: number;
  /** A new pod's start: a node, the images, CARLA up. */
  readonly podStartSeconds: number;
  /** Spot reclaims per node-hour. */
  readonly interruptionsPerHour: number;
  /** A spot-first worker interrupted more often than this moves to on demand. */
  readonly maxInterruptions: number;
  readonly price: InstancePrice;
  /** Uniform in [0, 1): seeded, so runs compare. */
  readonly random: () => number;
}

export interface WorkerRun {
  readonly spotHours: number;
  readonly onDemandHours: number;
  readonly finishedAfterHours: number;
  readonly interruptions: number;
  /** Routes driven to their end, each counted once however often its pod was lost. */
  readonly routesCompleted: number;
}

export interface SpotSimulation {
  readonly workers: readonly WorkerRun[];
  readonly usd: number;
  readonly makespanHours: number;
  readonly interruptions: number;
}

/**
 * One submission on `choice` capacity: its routes split by the real planner, each worker driving its routes
 * in order on its own node, reclaims arriving at random (exponential gaps) on spot; after each loss a new pod
 * starts and resumes by the resume rule, on the capacity `capacityAfter` gives it.
 */
export function simulateSubmission(
  routes: readonly RouteInfo[],
  choice: CapacityChoice,
  options: SpotSimulationOptions,
): SpotSimulation {
  const plan = planRoutes(routes, { workers: options.workers });
  const lengths = new Map(routes.map((r) => [r.id, r.length]));
  const workers = plan.workers.map((w) =>
    simulateWorker(
      w.routeIds.map((id) => (lengths.get(id) ?? 0) / 1000 / options.kmPerGpuHour),
      choice,
      options,
    ),
  );
  const usd = workers.reduce(
    (sum, w) => sum + w.spotHours * options.price.spot + w.onDemandHours * options.price.onDemand,
    0,
  );
  return {
    workers,
    usd,
    makespanHours: Math.max(...workers.map((w) => w.finishedAfterHours)),
    interruptions: workers.reduce((sum, w) => sum + w.interruptions, 0),
  };
}

function simulateWorker(routeHours: readonly number[], choice: CapacityChoice, options: SpotSimulationOptions) {
  let clock = 0;
  let spotHours = 0;
  let onDemandHours = 0;
  let interruptions = 0;
  let next = 0; // the first route not in the uploaded checkpoint
  const startHours = options.podStartSeconds / 3600;
  while (next < routeHours.length) {
    const capacity = capacityAfter({ capacity: choice, maxInterruptions: options.maxInterruptions }, interruptions);
    // The pod's life until a reclaim (none on demand): exponential, at the stage's rate.
    const life =
      capacity === 'spot' && options.interruptionsPerHour > 0
        ? -Math.log(1 - options.random()) / options.interruptionsPerHour
        : Number.POSITIVE_INFINITY;
    let used = startHours;
    let done = next;
    while (done < routeHours.length && used + (routeHours[done] ?? 0) <= life) used += routeHours[done++] ?? 0;
    const lost = done < routeHours.length;
    const held = lost ? life : used;
    if (capacity === 'spot') spotHours += held;
    else onDemandHours += held;
    clock += held;
    if (lost) interruptions += 1;
    next = nextRouteAfterLoss(done);
  }
  return { spotHours, onDemandHours, finishedAfterHours: clock, interruptions, routesCompleted: next };
}
