import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type SubmissionQueue, SubmissionQueueUnavailableError } from '@pitwall/domain';
import { type AwsClientOptions, clientOptions } from './aws-clients.js';

export function createSqsClient(options: AwsClientOptions): SQSClient {
  return new SQSClient(clientOptions(options));
}

/** EvalAI's submissions queue, standard or FIFO (a FIFO queue needs a group and a deduplication id). */
export class SqsSubmissionQueue implements SubmissionQueue {
  private readonly fifo: boolean;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
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
