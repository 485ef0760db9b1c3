/**
 * EvalAI allows 60 requests per minute per user token, counted across every process using it. Pitwall
 * shares one budget per token between all its Lambdas and executions, in fixed one-minute windows.
 * Requests are ranked so that what matters most is never starved by what matters least:
 *
 *   result   terminal PUTs (finished/failed/cancelled)     may use the whole window
 *   status   PATCH queued/running                           up to 90% of the window
 *   read     GET submission (eligibility, cancel checks)    up to 80%
 *   partial  partial results while running (best effort)    up to 50%
 */
export type RequestPriority = 'result' | 'status' | 'read' | 'partial';

export const PRIORITY_SHARE: Readonly<Record<RequestPriority, number>> = {
  result: 1,
  status: 0.9,
  read: 0.8,
  partial: 0.5,
};

export interface RequestBudget {
  /** True when a request of this priority may go now; it is then counted. */
  take(priority: RequestPriority): Promise<boolean>;
}

export function windowLimit(requestsPerMinute: number, priority: RequestPriority): number {
  return Math.max(1, Math.floor(requestsPerMinute * PRIORITY_SHARE[priority]));
}

/** A budget for one process (the local runtime and tests). */
export class MemoryRequestBudget implements RequestBudget {
  private window = -1;
  private used = 0;

  constructor(
    private readonly requestsPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(priority: RequestPriority): Promise<boolean> {
    const window = Math.floor(this.now() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    if (this.used >= windowLimit(this.requestsPerMinute, priority)) return false;
    this.used += 1;
    return true;
  }
}

/** No limit at all (tests of other behaviour). */
export const unlimitedBudget: RequestBudget = { take: async () => true };
