import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type SubmissionQueue, SubmissionQueueUnavailableError } from '@pitwall/domain';
import { type AwsClientOptions, clientOptions } from './aws-clients.js';

export function createSqsClient(options: AwsClientOptions): SQSClient {
  return new SQSClient(clientOptions(options));
}

/**
 * A queue's region, owner and name, and its URL in SQS's documented form, from its ARN
 * (arn:aws:sqs:<region>:<account>:<name>).
 */
export function queueOf(queueArn: string): { region: string; account: string; name: string; url: string } {
  const [, partition, , region = '', account = '', name = ''] = queueArn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { region, account, name, url: `https://sqs.${region}.${domain}/${account}/${name}` };
}

/**
 * The queue of that name, its URL asked of SQS rather than built, so that an endpoint the machine's
 * settings name (AWS_ENDPOINT_URL_SQS) answers with its own; the question also proves the credentials.
 */
export async function openSubmissionQueue(
  client: SQSClient,
  queue: { readonly name: string; readonly account?: string },
): Promise<SqsSubmissionQueue> {
  try {
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({
        QueueName: queue.name,
        ...(queue.account ? { QueueOwnerAWSAccountId: queue.account } : {}),
      }),
    );
    return new SqsSubmissionQueue(client, QueueUrl ?? '');
  } catch (error) {
    throw new SubmissionQueueUnavailableError(
      `cannot reach the submissions queue ${queue.name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** EvalAI's submissions queue, standard or FIFO (a FIFO queue needs a group and a deduplication id). */
export class SqsSubmissionQueue implements SubmissionQueue {
  private readonly fifo: boolean;

  constructor(
    private readonly client: SQSClient,
    readonly queueUrl: string,
  ) {
    this.fifo = queueUrl.endsWith('.fifo');
  }

  async send(message: { body: string; submissionPk: number; deduplicationId: string }): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: message.body,
          ...(this.fifo
            ? { MessageGroupId: `submission-${message.submissionPk}`, MessageDeduplicationId: message.deduplicationId }
            : {}),
        }),
      );
    } catch (error) {
      throw new SubmissionQueueUnavailableError(
        `could not send the message of submission ${message.submissionPk} to ${this.queueUrl}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
