import { type RelayReport, relayQueuedSubmissions } from '@pitwall/domain';
import { lambdaHandler, logger, metrics, type RawHandler } from '@pitwall/lambda-kit';
import { evalAiIntake } from '@pitwall/lambda-kit/evalai';
import { sqsSubmissionQueue } from '@pitwall/lambda-kit/sqs';

/**
 * Scheduled, for a challenge whose queue is EvalAI's own (no use_host_sqs): moves the messages EvalAI's REST
 * proxy hands out into Pitwall's queue, where the Pipe starts an execution for each.
 */
export const relay: RawHandler<RelayReport, 'intake' | 'queue'> =
  ({ plane }) =>
  async () => {
    const report = await relayQueuedSubmissions(plane);
    metrics.addMetric('MessagesRelayed', 'Count', report.relayed.length);
    if (report.unreadable > 0) logger.warn('deleted messages that named no submission', { count: report.unreadable });
    if (report.errors.length > 0) logger.error('could not relay some messages', { errors: report.errors });
    return report;
  };

export const handler = lambdaHandler(relay, { intake: evalAiIntake, queue: sqsSubmissionQueue });
