import { type SweepReport, scheduleAdmissions, sweepSubmissions } from '@pitwall/domain';
import {
  countSubmissionEnded,
  lambdaHandler,
  logger,
  metrics,
  type RawHandler,
  recordAttemptCost,
} from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { stepFunctionsExecutions } from '@pitwall/lambda-kit/step-functions';

/** Scheduled: drive stuck submissions to a terminal status. The schedule's event carries nothing we need. */
export const sweep: RawHandler<SweepReport, 'evalai' | 'jobs' | 'executions'> =
  ({ plane }) =>
  async () => {
    const report = await sweepSubmissions(plane);
    // The queue's schedule: the sweeper's own (every few minutes), beside Cleanup's and each arrival's.
    const scheduled = await scheduleAdmissions(plane);
    if (scheduled.reclaimed.length > 0) logger.warn('gave back queue slots no live run held', { ...scheduled });
    metrics.addMetric('WorkersRunning', 'Count', report.workersRunning);
    for (const [status, count] of Object.entries(report.activeByStatus)) {
      const metric = metrics.singleMetric();
      metric.addDimension('Status', status);
      metric.addMetric('SubmissionsActive', 'Count', count ?? 0);
    }
    for (const [failureClass, count] of Object.entries(report.failureClasses)) {
      const status = failureClass === 'cancelled' ? 'cancelled' : 'failed';
      countSubmissionEnded({ status, failureClass }, count ?? 0);
    }
    for (const cost of report.costs) recordAttemptCost(cost);
    if (report.errors.length > 0) logger.error('sweeper could not settle some submissions', { errors: report.errors });
    return report;
  };

export const handler = lambdaHandler(sweep, {
  evalai: evalAiHost,
  jobs: kubernetesJobRunner,
  executions: stepFunctionsExecutions,
});
