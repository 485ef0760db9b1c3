import { PitwallError, StaleAttemptError } from '../errors.js';
import { isTerminal } from '../lifecycle.js';
import { type ControlPlane, isoNow } from './ports.js';

/** How far before the oldest active submission the watch looks: EvalAI's clock and Pitwall's may differ. */
const WATCH_LOOKBACK_MARGIN_MS = 10 * 60_000;

/**
 * The challenge's status watch: at most once per poll period (`poll.initialSeconds`), whichever Observe
 * claims it lists EvalAI's cancelled submissions, back to the oldest active one, and marks each active record
 * it names. Every other Observe reads its own record: EvalAI calls for status grow with the number of
 * challenges, not of submissions. Returns the cancelled submissions it found (none when it did not run).
 *
 * An EvalAI that cannot answer now (an outage, the budget spent) costs one period's detection, not the
 * submission: the claim stands, so the watch is not retried on every Observe, and it runs again next period.
 */
export async function watchEvalAiStatuses(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'clock'>,
): Promise<ReadonlySet<number>> {
  const { challengePk, poll } = deps.config;
  const now = deps.clock.now();
  const until = new Date(now.getTime() + poll.initialSeconds * 1000);
  if (!(await deps.store.claimStatusWatch(challengePk, now.toISOString(), until.toISOString()))) return new Set();
  const active = (await deps.store.listActive()).filter((r) => r.challengePk === challengePk && !isTerminal(r.status));
  if (active.length === 0) return new Set();
  const oldest = Math.min(...active.map((r) => Date.parse(r.submittedAt ?? r.registeredAt)));
  let cancelled: ReadonlySet<number>;
  try {
    const listed = await deps.evalai.listSubmissions(challengePk, 'cancelled', {
      submittedAfter: new Date(oldest - WATCH_LOOKBACK_MARGIN_MS).toISOString(),
    });
    cancelled = new Set(listed.map((s) => s.id));
  } catch (error) {
    if (error instanceof PitwallError && error.transient) return new Set();
    throw error;
  }
  const seenAt = isoNow(deps.clock); // when EvalAI answered: the cancels it lists happened before this
  for (const record of active) {
    if (!cancelled.has(record.submissionPk) || record.cancelledOnEvalAiAt) continue;
    try {
      await deps.store.patch(record.submissionPk, record.attempt, { cancelledOnEvalAiAt: seenAt }, seenAt);
    } catch (error) {
      if (!(error instanceof StaleAttemptError)) throw error; // a resume began meanwhile: not its cancel
    }
  }
  return cancelled;
}
