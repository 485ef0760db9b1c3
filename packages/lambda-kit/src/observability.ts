import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AttemptCost } from '@pitwall/domain';

// Service name, log level and namespace come from the POWERTOOLS_* variables each service sets.
// Traces come from Lambda's active tracing, not from the X-Ray SDK (in maintenance since February 2026,
// and a seventh of every bundle): the ADOT layer adds per-call spans without a rebuild.
export const logger = new Logger();

/**
 * Metrics' own warnings go through the logger and its level, but for the one about an invocation that
 * added no metric: most tasks add none, and it would be a warning on nearly every invocation.
 */
const metricsLogger = {
  debug: logger.debug.bind(logger),
  info: logger.info.bind(logger),
  error: logger.error.bind(logger),
  warn: (message: string) => {
    if (!message.startsWith('No application metrics to publish')) logger.warn(message);
  },
};
export const metrics = new Metrics({ namespace: 'Pitwall', logger: metricsLogger });

/**
 * Submissions ended (one by default), counted by their status and failure class (`none` for a result): the dashboard's
 * "why runs fail". A metric of its own, so its dimensions are not added to the invocation's other metrics.
 */
export function countSubmissionEnded(ended: { status: string; failureClass?: string }, count = 1): void {
  if (count <= 0) return;
  const metric = metrics.singleMetric();
  metric.addDimensions({ Status: ended.status, FailureClass: ended.failureClass ?? 'none' });
  metric.addMetric('SubmissionsEnded', 'Count', count);
}

/**
 * What an ended attempt cost, by phase and track: its GPU time (seconds) and, where every pod was priced, its
 * US dollars at the stage's prices: the dashboard's cost by phase. Metrics of their own, like the count's.
 */
export function recordAttemptCost(cost: AttemptCost | undefined): void {
  if (!cost) return;
  // A single metric is written at its addMetric: one each.
  const add = (name: string, unit: 'Seconds' | 'None', value: number) => {
    const metric = metrics.singleMetric();
    metric.addDimensions({ Phase: String(cost.phasePk), Track: cost.track });
    metric.addMetric(name, unit, value);
  };
  add('GpuSeconds', 'Seconds', cost.gpuHours * 3600);
  if (cost.usd !== undefined) add('CostUsd', 'None', cost.usd);
}

/** Every answer of EvalAI's API, and its 429s: the dashboard's requests a minute against EvalAI's 60. */
export function countEvalAiAnswer(status: number): void {
  metrics.addMetric('EvalAiRequests', 'Count', 1);
  if (status === 429) metrics.addMetric('EvalAiThrottled', 'Count', 1);
}
