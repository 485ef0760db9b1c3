import { createSqsClient, SqsSubmissionQueue } from '@pitwall/adapters';
import type { SubmissionQueue } from '@pitwall/domain';
import { ConfigurationError } from './config.js';
import type { AdapterFactory } from './control-plane.js';

/**
 * A queue's region, owner and name, and its URL in SQS's documented form, from its ARN
 * (arn:aws:sqs:<region>:<account>:<name>).
 */
export function queueOf(queueArn: string): { region: string; account: string; name: string; url: string } {
  const [, partition, , region = '', account = '', name = ''] = queueArn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { region, account, name, url: `https://sqs.${region}.${domain}/${account}/${name}` };
}

/** EvalAI's submissions queue, for the reconciler's re-sent messages. */
export const sqsSubmissionQueue: AdapterFactory<SubmissionQueue> = ({ config }) => {
  if (!config.queueArn) throw new ConfigurationError('set PITWALL_QUEUE_ARN: the reconciler re-sends messages there');
  const queue = queueOf(config.queueArn);
  return new SqsSubmissionQueue(createSqsClient({ ...config.aws, region: queue.region }), queue.url);
};
