import type { StageConfig } from './stage-config.js';

/** The state machine's alarms, as serverless-step-functions names their resources in the workflow stack. */
export const STATE_MACHINE_ALARMS = [
  'EvaluateSubmissionStateMachineExecutionsFailedAlarm',
  'EvaluateSubmissionStateMachineExecutionsTimedOutAlarm',
  'EvaluateSubmissionStateMachineExecutionsAbortedAlarm',
  'EvaluateSubmissionStateMachineExecutionThrottledAlarm',
] as const;

type CfnValue = string | { Ref: string } | { 'Fn::GetAtt': [string, string] };

// Placeholders for what only CloudFormation knows, swapped for Ref and GetAtt once the body is text.
const REGION = '@@Ref:AWS::Region@@';
const ACCOUNT = '@@Ref:AWS::AccountId@@';
const alarmArn = (resource: string) => `@@GetAtt:${resource}@@`;

/**
 * The stage's CloudWatch dashboard, as the DashboardBody of an AWS::CloudWatch::Dashboard in the workflow
 * stack: executions started, succeeded, failed and timed out; the dead-letter queue; submissions by status
 * and failure class; EvalAI's requests and 429s a minute; the GPU workers running; what ended evaluations
 * cost and their GPU time, per phase; and the stage's alarms.
 * A Fn::Join, so that the region, the account and the alarms' ARNs are CloudFormation's.
 */
export function operationsDashboard(stage: string, config: StageConfig): { 'Fn::Join': [string, CfnValue[]] } {
  const stateMachine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:pitwall-evaluate-submission-${stage}`;
  // The dead-letter queue and its alarm exist where the stage creates the queue (no use_host_sqs).
  const ownQueue = config.evalai.queueArn === undefined;
  const alarms = [
    ...STATE_MACHINE_ALARMS.map(alarmArn),
    ...(ownQueue ? [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:pitwall-${stage}-submissions-dead-letters`] : []),
  ];
  const search = (schema: string, metric: string, stat: string, period: number, id: string, label?: string) => ({
    expression: `SEARCH('{Pitwall,${schema}} MetricName="${metric}"', '${stat}', ${period})`,
    id,
    ...(label ? { label } : {}),
  });
  const widget = (x: number, y: number, title: string, properties: Record<string, unknown>) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region: REGION, view: 'timeSeries', ...properties },
  });
  const body = {
    widgets: [
      {
        type: 'alarm',
        x: 0,
        y: 0,
        width: 24,
        height: 3,
        properties: { title: `Pitwall ${stage}: alarms`, alarms, sortBy: 'stateUpdatedTimestamp' },
      },
      widget(0, 3, 'Executions', {
        stat: 'Sum',
        period: 300,
        metrics: ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map((name) => [
          'AWS/States',
          name,
          'StateMachineArn',
          stateMachine,
        ]),
      }),
      ...(ownQueue
        ? [
            widget(12, 3, 'Submission messages in the dead-letter queue', {
              stat: 'Maximum',
              period: 60,
              metrics: [
                ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `pitwall-${stage}-submissions-dlq`],
              ],
            }),
          ]
        : []),
      widget(0, 9, 'Submissions ended, by status and failure class', {
        metrics: [[search('FailureClass,Status,service', 'SubmissionsEnded', 'Sum', 3600, 'ended')]],
      }),
      widget(12, 9, 'Submissions not yet ended, by status', {
        metrics: [[search('Status,service', 'SubmissionsActive', 'Maximum', 300, 'active')]],
      }),
      widget(0, 15, 'EvalAI requests and 429s a minute (EvalAI allows the token 60)', {
        metrics: [
          [{ expression: 'SUM(requests)', id: 'requestsPerMinute', label: 'requests' }],
          [{ expression: 'SUM(throttled)', id: 'throttledPerMinute', label: '429s' }],
          [{ ...search('service', 'EvalAiRequests', 'Sum', 60, 'requests'), visible: false }],
          [{ ...search('service', 'EvalAiThrottled', 'Sum', 60, 'throttled'), visible: false }],
        ],
        annotations: { horizontal: [{ label: "Pitwall's share", value: config.evalai.requestsPerMinute }] },
      }),
      widget(12, 15, 'GPU workers running', {
        metrics: [[search('service', 'WorkersRunning', 'Maximum', 300, 'workers')]],
      }),
      widget(0, 21, 'What ended evaluations cost, by phase (USD a day, at the stage’s prices)', {
        metrics: [[search('Phase,Track,service', 'CostUsd', 'Sum', 86_400, 'usd')]],
      }),
      widget(12, 21, 'GPU time of ended evaluations, by phase (GPU-seconds a day)', {
        metrics: [[search('Phase,Track,service', 'GpuSeconds', 'Sum', 86_400, 'gpuSeconds')]],
      }),
    ],
  };
  const parts = JSON.stringify(body)
    .split(/(@@(?:Ref|GetAtt):[A-Za-z:]+@@)/)
    .filter((part) => part !== '')
    .map((part): CfnValue => {
      const ref = /^@@Ref:(.+)@@$/.exec(part);
      if (ref) return { Ref: ref[1] as string };
      const getAtt = /^@@GetAtt:(.+)@@$/.exec(part);
      return getAtt ? { 'Fn::GetAtt': [getAtt[1] as string, 'Arn'] } : part;
    });
  return { 'Fn::Join': ['', parts] };
}
