import { type CostLine, costReport, systemClock } from '@pitwall/domain';
import Table from 'cli-table3';
import type { CliIo } from '../io.js';
import type { CostOptions } from './cost.js';
import { sourceOf } from './sources.js';

/** `cost`: GPU-hours and money per team and per phase, at the stage's prices. */
export async function costCommand(io: CliIo, options: CostOptions): Promise<void> {
  const source = await sourceOf(options, io);
  const records = await source.read(() => source.store.listAll());
  const report = costReport(records, source.challenge.prices, systemClock.now(), {
    ...(options.since ? { from: options.since } : {}),
    ...(options.until ? { to: options.until } : {}),
  });
  if (options.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  const table = (title: string, lines: readonly CostLine[]) => {
    const t = new Table({ head: [title, 'submissions', 'GPU-h', 'USD', 'unpriced'], style: { head: [], border: [] } });
    for (const line of [...lines, report.total]) {
      t.push([line.key, line.submissions, line.gpuHours.toFixed(2), line.usd.toFixed(2), line.unpriced]);
    }
    return t.toString();
  };
  io.out([table('team', report.byTeam), table('phase', report.byPhase)].join('\n'));
}
