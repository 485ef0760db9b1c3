/**
 * EvalAI allows 60 requests per user token in any sliding 60-second interval, counted across every process
 * using the token (§7: a throttled request still costs the client its place). Pitwall's budget keeps the same
 * shape: `requestsPerMinute` slots, each standing for one request until that request stops counting in
 * EvalAI's window. A request takes a free slot before it is sent and stamps it when its answer arrives, so no
 * 60-second interval ever holds more requests than slots, whatever the ranks. Requests are ranked by the
 * slots they may use, so what matters most is never starved by what matters least:
 *
 *   result   terminal PUTs (finished/failed/cancelled);     every slot
 *            the lists (one request covers the challenge:
 *            the status watch that ends cancelled runs)
 *   status   PATCH queued/running                           90% of the slots
 *   read     GET submission (eligibility, cancel checks)    80%
 *   partial  partial results while running (best effort)    50%
 */
export type RequestPriority = 'result' | 'status' | 'read' | 'partial';

export const PRIORITY_SHARE: Readonly<Record<RequestPriority, number>> = {
  result: 1,
  status: 0.9,
  read: 0.8,
  partial: 0.5,
};

/** EvalAI's throttle window, plus a second for latency and clock skew between Pitwall's processes. */
export const BUDGET_WINDOW_MS = 61_000;

/**
 * How long after the client gave up a request may still reach EvalAI's throttle: a busy server reads it
 * from its queue later (a load balancer holds a request for up to its 60 s idle timeout).
 */
export const UNANSWERED_MS = 60_000;

/**
 * A slot held for one request: `release` once its answer (or failure) is in. A request that got no answer
 * (a timeout, a reset) is released `unanswered`: it counts a window after it could still have arrived.
 */
export interface BudgetLease {
  release(outcome?: 'answered' | 'unanswered'): Promise<void>;
}

/** Until when a request released now counts in EvalAI's window. */
export function countsUntilAfter(now: number, outcome: 'answered' | 'unanswered' = 'answered'): number {
  return now + BUDGET_WINDOW_MS + (outcome === 'unanswered' ? UNANSWERED_MS : 0);
}

export type BudgetGrant =
  | { readonly granted: true; readonly lease: BudgetLease }
  | { readonly granted: false; readonly retryAfterMs: number };

export interface RequestBudget {
  /**
   * A slot for one request of this priority, if one is free now. `maxRequestMs` is how long the request may
   * take at most: a lease never released (a crash) holds its slot that much longer.
   */
  take(priority: RequestPriority, maxRequestMs: number): Promise<BudgetGrant>;
}

/** How many of the slots a priority may use: the first `windowLimit` of them. */
export function windowLimit(requestsPerMinute: number, priority: RequestPriority): number {
  return Math.max(1, Math.floor(requestsPerMinute * PRIORITY_SHARE[priority]));
}

/**
 * Which slots to try, given when each stops counting: the free ones in random order (so that concurrent
 * takers spread out), or how long until the first one frees up.
 */
export function freeSlots(countsUntil: readonly number[], now: number): { free: number[]; retryAfterMs: number } {
  const free: number[] = [];
  let soonest = Number.POSITIVE_INFINITY;
  countsUntil.forEach((until, slot) => {
    if (until <= now) free.push(slot);
    else soonest = Math.min(soonest, until);
  });
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [free[i], free[j]] = [free[j] as number, free[i] as number];
  }
  return { free, retryAfterMs: free.length > 0 ? 0 : soonest - now };
}

/** A budget for one process (the local runtime and tests). */
export class MemoryRequestBudget implements RequestBudget {
  private readonly countsUntil: number[];

  constructor(
    private readonly requestsPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.countsUntil = new Array<number>(requestsPerMinute).fill(0);
  }

  async take(priority: RequestPriority, maxRequestMs: number): Promise<BudgetGrant> {
    const now = this.now();
    const usable = windowLimit(this.requestsPerMinute, priority);
    // One process, no contention: the first free slot will do (a scan, so large local budgets stay cheap).
    let soonest = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < usable; slot++) {
      const until = this.countsUntil[slot] as number;
      if (until > now) {
        soonest = Math.min(soonest, until);
        continue;
      }
      this.countsUntil[slot] = now + maxRequestMs + BUDGET_WINDOW_MS;
      const release: BudgetLease['release'] = async (outcome) => {
        this.countsUntil[slot] = countsUntilAfter(this.now(), outcome);
      };
      return { granted: true, lease: { release } };
    }
    return { granted: false, retryAfterMs: soonest - now };
  }
}

/** No limit at all (tests of other behaviour). */
export const unlimitedBudget: RequestBudget = {
  take: async () => ({ granted: true, lease: { release: async () => undefined } }),
};
