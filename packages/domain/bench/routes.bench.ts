// pnpm bench:routes — how long the busiest GPU worker drives, by split strategy.
import { readFileSync } from 'node:fs';
import { routesFile } from '@pitwall/carla-routes';
import { parseRouteFile, planRoutes } from '../src/index.js';

const km = (metres: number) => (metres / 1000).toFixed(1).padStart(8);
const rows: string[] = [];
let worse = false;

for (const set of ['training', 'validation'] as const) {
  const routes = parseRouteFile(readFileSync(routesFile(set), 'utf8'));
  for (const workers of [2, 4, 8]) {
    const started = performance.now();
    const contiguous = planRoutes(routes, { workers, strategy: 'contiguous' });
    const balanced = planRoutes(routes, { workers, strategy: 'balanced' });
    const ms = performance.now() - started;
    worse ||= balanced.makespan > contiguous.makespan;
    rows.push(
      [
        set.padEnd(11),
        String(routes.length).padStart(6),
        String(workers).padStart(3),
        km(contiguous.makespan),
        km(balanced.makespan),
        km(balanced.lowerBound),
        (balanced.makespan / contiguous.makespan).toFixed(3).padStart(9),
        (balanced.makespan / balanced.lowerBound).toFixed(3).padStart(9),
        ms.toFixed(1).padStart(8),
      ].join(' '),
    );
  }
}

console.log('Makespan = route kilometres of the busiest worker (lower is better).');
console.log('set         routes   N  contig km balanced km   bound km bal/contig bal/bound plan ms');
for (const row of rows) console.log(row);
if (worse) {
  console.error('balanced was worse than contiguous on some row');
  process.exit(1);
}
