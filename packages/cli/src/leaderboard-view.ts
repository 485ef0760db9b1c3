import { EvalAiClient, type LeaderboardEntry } from '@pitwall/adapters';
import { sharedRanks } from '@pitwall/domain';
import Table from 'cli-table3';

/** The leaderboard as a participant reads it: EvalAI's public board route, not the emulator's insides. */
export function leaderboardOf(evalaiUrl: string, splitId: number): Promise<LeaderboardEntry[]> {
  return new EvalAiClient({ baseUrl: evalaiUrl, token: '' }).leaderboard(splitId);
}

export function leaderboardTable(entries: readonly LeaderboardEntry[]): string {
  const board = new Table({
    head: ['rank', 'team', 'Driving score', 'Route completion', 'Infraction penalty'],
    style: { head: [], border: [] },
  });
  // Equal Driving scores share a place, as EvalAI's board orders them (best first).
  const ranks = sharedRanks(entries.map((entry) => Number(entry.values['Driving score'] ?? Number.NaN)));
  entries.forEach((entry, i) => {
    board.push([
      ranks[i] ?? i + 1,
      entry.teamName,
      entry.values['Driving score'] ?? '#',
      entry.values['Route completion'] ?? '#',
      entry.values['Infraction penalty'] ?? '#',
    ]);
  });
  return board.toString();
}
