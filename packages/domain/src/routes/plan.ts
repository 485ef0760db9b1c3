import type { RouteInfo } from './route-file.js';

export const PLAN_STRATEGIES = ['balanced', 'contiguous'] as const;
export type PlanStrategy = (typeof PLAN_STRATEGIES)[number];

export interface WorkerPlan {
  readonly worker: number;
  /** Route ids in the order of the route file, which is the order the evaluator runs them in. */
  readonly routeIds: readonly string[];
  /** The evaluator's --routes-subset argument: ids and ranges (in file order), comma-separated. */
  readonly routesSubset: string;
  /** Sum of the route lengths in metres. */
  readonly length: number;
}

export interface RoutePlan {
  readonly strategy: PlanStrategy;
  readonly requestedWorkers: number;
  /** Stored with the submission so that a resumed run splits the routes the same way. */
  readonly workerCount: number;
  readonly routeCount: number;
  readonly totalLength: number;
  /** The longest worker's length: what decides how long the submission holds its GPUs. */
  readonly makespan: number;
  /** No split can do better than max(total / workers, longest route). */
  readonly lowerBound: number;
  readonly workers: readonly WorkerPlan[];
}

export interface PlanOptions {
  readonly workers: number;
  readonly strategy?: PlanStrategy;
}

/** Splits the routes over at most `workers` workers (never more workers than routes). */
export function planRoutes(routes: readonly RouteInfo[], options: PlanOptions): RoutePlan {
  const { workers: requested, strategy = 'balanced' } = options;
  if (!Number.isSafeInteger(requested) || requested < 1) {
    throw new RangeError(`workers must be a whole number of at least 1, got ${requested}`);
  }
  if (routes.length === 0) throw new RangeError('there are no routes to plan');
  const count = Math.min(routes.length, requested);
  const contiguous = contiguousSplit(routes, count);
  const groups = strategy === 'contiguous' ? contiguous : betterOf(balancedSplit(routes, count), contiguous);
  const workers = groups.map((group, worker) => describe(worker, group));
  const totalLength = sumLengths(routes);
  return {
    strategy,
    requestedWorkers: requested,
    workerCount: count,
    routeCount: routes.length,
    totalLength,
    makespan: Math.max(...workers.map((w) => w.length)),
    lowerBound: Math.max(totalLength / count, ...routes.map((r) => r.length)),
    workers,
  };
}

/** leaderboard-cloud's split: worker i gets positions ceil(i*step) .. ceil((i+1)*step)-1. */
function contiguousSplit(routes: readonly RouteInfo[], count: number): RouteInfo[][] {
  const step = routes.length / count;
  return Array.from({ length: count }, (_, i) => routes.slice(Math.ceil(i * step), Math.ceil((i + 1) * step)));
}

/** Longest route first onto the least loaded worker, then moves and swaps off the busiest worker. */
function balancedSplit(routes: readonly RouteInfo[], count: number): RouteInfo[][] {
  const groups: RouteInfo[][] = Array.from({ length: count }, () => []);
  const loads = new Array<number>(count).fill(0);
  const longestFirst = [...routes].sort((a, b) => b.length - a.length || a.position - b.position);
  for (const route of longestFirst) {
    const target = loads.indexOf(Math.min(...loads));
    groups[target]?.push(route);
    loads[target] = (loads[target] ?? 0) + route.length;
  }
  improve(groups, loads);
  return groups;
}

/** Local search: any move or swap that shortens the busiest worker without making another one longer. */
function improve(groups: RouteInfo[][], loads: number[]): void {
  for (let round = 0; round < 10_000; round++) {
    const busiest = loads.indexOf(Math.max(...loads));
    const top = loads[busiest] ?? 0;
    if (!tryImprove(groups, loads, busiest, top)) return;
  }
}

function tryImprove(groups: RouteInfo[][], loads: number[], busiest: number, top: number): boolean {
  const from = groups[busiest] ?? [];
  for (let other = 0; other < groups.length; other++) {
    if (other === busiest) continue;
    const to = groups[other] ?? [];
    const otherLoad = loads[other] ?? 0;
    for (let i = 0; i < from.length; i++) {
      const route = from[i] as RouteInfo;
      if (otherLoad + route.length < top) {
        from.splice(i, 1);
        to.push(route);
        loads[busiest] = top - route.length;
        loads[other] = otherLoad + route.length;
        return true;
      }
      for (let j = 0; j < to.length; j++) {
        const swap = to[j] as RouteInfo;
        const delta = route.length - swap.length;
        if (delta > 0 && otherLoad + delta < top) {
          from[i] = swap;
          to[j] = route;
          loads[busiest] = top - delta;
          loads[other] = otherLoad + delta;
          return true;
        }
      }
    }
  }
  return false;
}

/** Balanced is never allowed to be worse than the contiguous split it replaces. */
function betterOf(balanced: RouteInfo[][], contiguous: RouteInfo[][]): RouteInfo[][] {
  const makespan = (groups: RouteInfo[][]) => Math.max(...groups.map(sumLengths));
  return makespan(balanced) <= makespan(contiguous) ? balanced : contiguous;
}

function describe(worker: number, group: readonly RouteInfo[]): WorkerPlan {
  const inFileOrder = [...group].sort((a, b) => a.position - b.position);
  return {
    worker,
    routeIds: inFileOrder.map((r) => r.id),
    routesSubset: routesSubset(inFileOrder),
    length: sumLengths(inFileOrder),
  };
}

/** Runs of neighbouring routes in the file become `first-last`; the rest are listed. */
export function routesSubset(inFileOrder: readonly RouteInfo[]): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= inFileOrder.length; i++) {
    const current = inFileOrder[i];
    const previous = inFileOrder[i - 1] as RouteInfo;
    if (current && current.position === previous.position + 1) continue;
    const first = inFileOrder[start] as RouteInfo;
    parts.push(first === previous ? first.id : `${first.id}-${previous.id}`);
    start = i;
  }
  return parts.join(',');
}

function sumLengths(routes: readonly RouteInfo[]): number {
  return routes.reduce((sum, route) => sum + route.length, 0);
}

/** The routes a `--routes-subset` argument selects, in file order: ids and `first-last` ranges, as the evaluator reads them. */
export function expandRoutesSubset(routes: readonly RouteInfo[], subset: string): RouteInfo[] {
  if (!subset) return [...routes];
  const chosen = new Set<string>();
  for (const part of subset.split(',')) {
    const [first, last = first] = part.split('-');
    const start = routes.findIndex((r) => r.id === first);
    const end = routes.findIndex((r) => r.id === last);
    for (let i = start; i >= 0 && i <= end; i++) chosen.add(routes[i]?.id ?? '');
  }
  return routes.filter((r) => chosen.has(r.id));
}
