import type { CliIo } from '../io.js';
import { leaderboardTable } from '../leaderboard-view.js';
import { sourceOf } from './sources.js';

/** `leaderboard`: per phase, the best entry of each team first, as participants see it. */
export async function leaderboardCommand(io: CliIo, options: { json?: boolean; stage?: string }): Promise<void> {
  const source = await sourceOf(options, io);
  const entries = await source.read(() => source.leaderboard());
  if (options.json) {
    io.out(JSON.stringify(entries, null, 2));
    return;
  }
  const phases = [...new Set(entries.map((e) => e.phasePk))];
  if (phases.length === 0) io.out('no results yet');
  for (const phase of phases) {
    const track = source.challenge.phases[String(phase)]?.track ?? '';
    if (phases.length > 1) io.out(`phase ${phase} (${track}):`);
    io.out(leaderboardTable(entries.filter((e) => e.phasePk === phase)));
  }
}
