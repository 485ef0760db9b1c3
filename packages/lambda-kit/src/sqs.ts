import { createSqsClient, SqsSubmissionQueue } from '@pitwall/adapters';
import type { SubmissionQueue } from '@pitwall/domain';
import { ConfigurationError } from './config.js';
import type { AdapterFactory } from './control-plane.js';

/** The queue's URL in SQS's documented form, from its ARN (arn:aws:sqs:<region>:<account>:<name>). */
export function queueUrlOf(queueArn: string): string {
  const [, partition, , region = '', account, name] = queueArn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** EvalAI's submissions queue, for the reconciler's re-sent messages. */
export const sqsSubmissionQueue: AdapterFactory<SubmissionQueue> = ({ config }) => {
  if (!config.queueArn) throw new ConfigurationError('set PITWALL_QUEUE_ARN: the reconciler re-sends messages there');
  const region = config.queueArn.split(':')[3] ?? config.region;
  return new SqsSubmissionQueue(createSqsClient({ region }), queueUrlOf(config.queueArn));
};
