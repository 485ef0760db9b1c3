// pnpm bench:cost — the public route sets evaluated on demand and on spot (spot first, on demand after too
// many reclaims), through the real planner and resume rules. Settings from the environment:
//   COST_PRICES                   JSON {"onDemand": <usd/h>, "spot": <usd/h>} of the track's instance type
//   COST_INTERRUPTIONS_PER_HOUR   spot reclaims per node-hour
//   COST_WORKERS, COST_KM_PER_GPU_HOUR, COST_POD_START_SECONDS, COST_MAX_INTERRUPTIONS, COST_TRIALS
import { readFileSync } from 'node:fs';
import { CARLA_ROUTE_SETS, routesFile } from '@pitwall/carla-routes';
import { type InstancePrice, parseRouteFile, type SpotSimulationOptions, simulateSubmission } from '../src/index.js';

const env = process.env;
const number = (name: string, fallback: number) => {
  const value = env[name] === undefined ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a number of at least 0`);
  return value;
};
// g5.2xlarge in us-west-2, December 2026: on demand, and a typical spot price (about a third).
const price = JSON.parse(env.COST_PRICES ?? '{"onDemand": 1.212, "spot": 0.4}') as InstancePrice;
if (!(price.onDemand > 0 && price.spot > 0)) throw new RangeError('COST_PRICES needs onDemand and spot prices');
const trials = number('COST_TRIALS', 200);

let seed = 20261203;
const base: Omit<SpotSimulationOptions, 'random'> = {
  workers: number('COST_WORKERS', 8),
  kmPerGpuHour: number('COST_KM_PER_GPU_HOUR', 4),
  podStartSeconds: number('COST_POD_START_SECONDS', 600),
  interruptionsPerHour: number('COST_INTERRUPTIONS_PER_HOUR', 0.05),
  maxInterruptions: number('COST_MAX_INTERRUPTIONS', 3),
  price,
};
const options: SpotSimulationOptions = {
  ...base,
  random: () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  },
};

console.log(
  `${base.workers} workers a submission, ${base.kmPerGpuHour} km per GPU-hour, ${base.podStartSeconds} s a pod start; ` +
    `$${price.onDemand}/h on demand, $${price.spot}/h spot, ${base.interruptionsPerHour} reclaims per node-hour, ` +
    `on demand after ${base.maxInterruptions}; spot averaged over ${trials} runs.`,
);
console.log('route set   routes      km  on-demand $  spot $  saving  makespan h (od / spot)  reclaims');
let onDemandUsd = 0;
let spotUsd = 0;
let onDemandMakespan = 0;
let spotMakespan = 0;
for (const set of CARLA_ROUTE_SETS) {
  const routes = parseRouteFile(readFileSync(routesFile(set), 'utf8'));
  const km = routes.reduce((sum, r) => sum + r.length, 0) / 1000;
  const onDemand = simulateSubmission(routes, 'on-demand', options);
  let usd = 0;
  let makespan = 0;
  let reclaims = 0;
  for (let trial = 0; trial < trials; trial++) {
    const spot = simulateSubmission(routes, 'spot-first', options);
    usd += spot.usd / trials;
    makespan += spot.makespanHours / trials;
    reclaims += spot.interruptions / trials;
  }
  onDemandUsd += onDemand.usd;
  spotUsd += usd;
  onDemandMakespan += onDemand.makespanHours;
  spotMakespan += makespan;
  console.log(
    [
      set.padEnd(10),
      String(routes.length).padStart(7),
      km.toFixed(0).padStart(7),
      onDemand.usd.toFixed(2).padStart(12),
      usd.toFixed(2).padStart(7),
      `${((1 - usd / onDemand.usd) * 100).toFixed(1)}%`.padStart(7),
      `${onDemand.makespanHours.toFixed(2)} / ${makespan.toFixed(2)}`.padStart(24),
      reclaims.toFixed(2).padStart(9),
    ].join(' '),
  );
}
const saving = (1 - spotUsd / onDemandUsd) * 100;
console.log(
  `cost: ondemand_usd=${onDemandUsd.toFixed(2)} spot_usd=${spotUsd.toFixed(2)} saving=${saving.toFixed(1)} makespan_ratio=${(spotMakespan / onDemandMakespan).toFixed(3)}`,
);
