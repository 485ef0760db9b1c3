import type { ControlPlane } from './ports.js';
import { idsOf } from './register.js';
import { digest } from './results-io.js';

/**
 * Messages one run of the relay moves: two requests each, and the empty poll, so a run every minute takes
 * at most 21 of EvalAI's 60 requests a minute while a burst lasts, 1 when the queue is empty.
 */
export const RELAY_MAX_MESSAGES = 10;

export interface RelayReport {
  /** Submissions whose messages went from EvalAI's queue into Pitwall's. */
  readonly relayed: readonly number[];
  /** Messages that named no submission: deleted, since nothing could act on them. */
  readonly unreadable: number;
  readonly errors: readonly string[];
}

/**
 * The relay, for a challenge whose queue only EvalAI can read: moves each message its REST proxy hands out
 * into Pitwall's own queue, then deletes it from EvalAI's, at most `maxMessages` a run (each costs two
 * requests of EvalAI's budget, and the empty poll that ends the run one more). A message sent but not
 * deleted comes back and is sent again; Register's conditional writes make the duplicate harmless. One
 * that could not be sent stays in EvalAI's queue for the next run.
 */
export async function relayQueuedSubmissions(
  deps: Pick<ControlPlane, 'intake' | 'queue'>,
  options: { readonly maxMessages: number } = { maxMessages: RELAY_MAX_MESSAGES },
): Promise<RelayReport> {
  const relayed: number[] = [];
  const errors: string[] = [];
  let unreadable = 0;
  for (let taken = 0; taken < options.maxMessages; taken++) {
    const message = await deps.intake.receive();
    if (!message) break;
    const body = JSON.stringify(message.body);
    const ids = idsOf(body);
    if (ids) {
      try {
        await deps.queue.send({
          body,
          submissionPk: ids.submissionPk,
          deduplicationId: `relay-${ids.submissionPk}-${digest(message.receiptHandle).slice(0, 32)}`,
        });
      } catch (error) {
        errors.push(`submission ${ids.submissionPk}: not sent, left in EvalAI's queue: ${(error as Error).message}`);
        break; // Pitwall's queue is failing: the rest wait in EvalAI's for the next run
      }
      relayed.push(ids.submissionPk);
    } else {
      unreadable += 1;
    }
    try {
      await deps.intake.delete(message.receiptHandle);
    } catch (error) {
      const which = ids ? `submission ${ids.submissionPk}` : 'an unreadable message';
      errors.push(`${which}: not deleted from EvalAI's queue (it comes back): ${(error as Error).message}`);
    }
  }
  return { relayed, unreadable, errors };
}
