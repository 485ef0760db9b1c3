import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { openSubmissionQueue, queueOf } from '@pitwall/adapters';

/** The local submissions queue's name, which the relay also asks EvalAI's queue proxy for by default. */
export const LOCAL_QUEUE = 'evalai-submissions';

/** Where submissions arrive: a queue, its URL and its ARN (which the Pipe's events name). */
export interface SubmissionsQueue {
  readonly sqs: SQSClient;
  readonly url: string;
  readonly arn: string;
}

/** The host's SQS queue could not be found or read with the machine's credentials. */
export class HostQueueUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HostQueueUnavailableError';
  }
}

/**
 * The local submissions queue and its dead-letter queue, as the ingest service creates them in AWS: 30 s
 * visibility, three receives before a message goes to the dead letters.
 */
export async function createLocalQueues(sqs: SQSClient) {
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn ?? '';
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${LOCAL_QUEUE}-dlq` }));
  const deadLetterQueueUrl = dlq.QueueUrl ?? '';
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: LOCAL_QUEUE,
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(deadLetterQueueUrl), maxReceiveCount: 3 }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl ?? '';
  return { queueUrl, deadLetterQueueUrl, queueArn: await arnOf(queueUrl) };
}

/** The host's queue (use_host_sqs), with the machine's AWS credentials and the region its ARN names. */
export async function openHostQueue(arn: string): Promise<SubmissionsQueue> {
  const { region, account, name } = queueOf(arn);
  const sqs = new SQSClient({ region });
  try {
    const { queueUrl } = await openSubmissionQueue(sqs, { name, account });
    return { sqs, url: queueUrl, arn };
  } catch (error) {
    sqs.destroy();
    throw new HostQueueUnavailableError(
      `cannot reach the challenge's queue ${arn} with this machine's AWS credentials: ${((error as Error).cause as Error).message}`,
      { cause: error },
    );
  }
}
