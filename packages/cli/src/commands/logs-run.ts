import { artifactKeys, isTerminal } from '@pitwall/domain';
import { type CliIo, UsageError } from '../io.js';
import type { Container, LogsOptions } from './logs.js';
import { recordOf, type Source, sourceOf } from './sources.js';

/** `logs`: each worker's log of one container, or `--follow` until the submission ends. */
export async function logsCommand(io: CliIo, pk: number, options: LogsOptions): Promise<void> {
  const source = await sourceOf(options, io);
  const record = await recordOf(source, pk, options.stage);
  const workers = (record.plan?.workers ?? []).map((w) => w.worker);
  if (options.worker !== undefined && !workers.includes(options.worker)) {
    throw new UsageError(`submission ${pk} has no worker ${options.worker} (it has: ${workers.join(', ') || 'none'})`);
  }
  const shown = options.worker === undefined ? workers : [options.worker];
  if (options.follow) {
    await followLogs(source, pk, shown, options.container, io);
    return;
  }
  for (const worker of shown) {
    const key = artifactKeys.log(pk, worker, options.container);
    const text = await source.read(() => source.artifacts.get(key));
    io.out(`== worker ${worker}, ${options.container} ==`);
    io.out(text === undefined ? '(no log uploaded yet)' : text);
  }
}

/** How often `logs --follow` reads the logs again: about as often as logcopy uploads them. */
const FOLLOW_EVERY_MS = 1000;

/**
 * `logs --follow`: the workers' logs as logcopy uploads them, each new complete line once (prefixed by its
 * worker when there are several), until the record ends; the round after it ends prints what is left.
 */
async function followLogs(
  source: Source,
  pk: number,
  workers: readonly number[],
  container: Container,
  io: CliIo,
): Promise<void> {
  const printed = new Map<number, number>();
  for (;;) {
    const record = await source.read(() => source.store.get(pk));
    const ended = !record || isTerminal(record.status);
    for (const worker of workers) {
      const text = (await source.read(() => source.artifacts.get(artifactKeys.log(pk, worker, container)))) ?? '';
      let from = printed.get(worker) ?? 0;
      if (text.length < from) from = 0; // logcopy kept only the end of a long log: start over
      const upTo = ended ? text.length : text.lastIndexOf('\n') + 1;
      if (upTo <= from) continue;
      const lines = text.slice(from, upTo).replace(/\n$/, '').split('\n');
      io.out(lines.map((line) => (workers.length > 1 ? `[worker ${worker}] ${line}` : line)).join('\n'));
      printed.set(worker, upTo);
    }
    if (ended) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
  }
}
