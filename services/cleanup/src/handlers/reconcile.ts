import { type ReconcileReport, reconcileSubmissions } from '@pitwall/domain';
import { countSubmissionEnded, lambdaHandler, logger, metrics, type RawHandler } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { sqsSubmissionQueue } from '@pitwall/lambda-kit/sqs';

/** Scheduled: re-send the messages of submissions EvalAI shows as submitted that never reached Pitwall. */
export const reconcile: RawHandler<ReconcileReport, 'evalai' | 'queue'> =
  ({ plane }) =>
  async () => {
    const report = await reconcileSubmissions(plane);
    metrics.addMetric('MessagesResent', 'Count', report.resent.length);
    metrics.addMetric('SubmissionsNeverStarted', 'Count', report.failed.length);
    countSubmissionEnded({ status: 'failed', failureClass: 'platform_error' }, report.failed.length);
    if (report.resent.length > 0) logger.warn('re-sent lost submission messages', { resent: report.resent });
    if (report.failed.length > 0) logger.error('failed submissions that never started', { failed: report.failed });
    if (report.errors.length > 0) logger.error('could not reconcile some submissions', { errors: report.errors });
    return report;
  };

export const handler = lambdaHandler(reconcile, { evalai: evalAiHost, queue: sqsSubmissionQueue });
