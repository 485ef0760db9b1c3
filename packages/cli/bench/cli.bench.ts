// pnpm bench:cli — how long the host waits for the `pitwall` command to answer: `pitwall --version` and
// `pitwall list --help`, the command installed at node_modules/.bin/pitwall, the median of 3. `pnpm pitwall`
// adds pnpm's own start (about 0.65 s on the 2-core machine), printed on stderr beside it for comparison.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pitwall = `${root}node_modules/.bin/pitwall`;
const pinned = `${root}.tools/node_modules/.bin/pnpm`;
const pnpm = existsSync(pinned) ? pinned : 'pnpm';
const RUNS = 3;

/** The median wall time of a command, in ms; throws if it does not exit 0. */
function medianMs(command: string, args: readonly string[]): number {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
    times.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

const version = medianMs(pitwall, ['--version']);
const listHelp = medianMs(pitwall, ['list', '--help']);
console.log(`cli: version_ms=${Math.round(version)} list_help_ms=${Math.round(listHelp)}`);
console.error(`(pnpm's own start, \`pnpm exec true\`: ${Math.round(medianMs(pnpm, ['--silent', 'exec', 'true']))} ms)`);
if (version > 1000 || listHelp > 1000) console.error('over the goal of 1000 ms (#32 item 2)');
