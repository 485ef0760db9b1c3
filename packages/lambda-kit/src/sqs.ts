import { createSqsClient, queueOf, SqsSubmissionQueue } from '@pitwall/adapters';
import type { SubmissionQueue } from '@pitwall/domain';
import { ConfigurationError } from './config.js';
import type { AdapterFactory } from './control-plane.js';

/** EvalAI's submissions queue, for the reconciler's re-sent messages. */
export const sqsSubmissionQueue: AdapterFactory<SubmissionQueue> = ({ config }) => {
  if (!config.queueArn) throw new ConfigurationError('set PITWALL_QUEUE_ARN: the reconciler re-sends messages there');
  const queue = queueOf(config.queueArn);
  return new SqsSubmissionQueue(createSqsClient({ ...config.aws, region: queue.region }), queue.url);
};
