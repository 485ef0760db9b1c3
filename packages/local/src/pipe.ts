import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ExecutionStarter } from '@pitwall/domain';

/**
 * The EventBridge Pipe, locally: takes messages one at a time from the queue and starts an execution
 * with the SQS record as input (batch size 1, no input template). A message whose execution cannot be
 * started stays on the queue, comes back after the visibility timeout, and goes to the DLQ after the
 * queue's max receive count.
 */
export class SqsPipe {
  private running: Promise<void> | undefined;
  private stopped = false;
  readonly errors: string[] = [];
  /** Since when the queue cannot be read, and why; none while it can. */
  failing: { readonly since: number; readonly error: string } | undefined;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly starter: ExecutionStarter,
    /** How long a received message stays hidden; it comes back after this if it was not deleted. */
    private readonly visibilityTimeoutSeconds = 30,
  ) {}

  start(): void {
    this.running ??= (async () => {
      while (!this.stopped) {
        try {
          const started = await this.pollOnce();
          this.failing = undefined;
          if (started === 0) await new Promise((resolve) => setTimeout(resolve, 100));
        } catch (error) {
          if (!this.stopped) this.errors.push((error as Error).message);
          this.failing = { since: this.failing?.since ?? Date.now(), error: (error as Error).message };
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Takes at most one message; returns how many executions it started. */
  async pollOnce(): Promise<number> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: this.visibilityTimeoutSeconds,
        WaitTimeSeconds: 0,
      }),
    );
    let started = 0;
    for (const message of Messages) {
      const record = {
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body,
        attributes: message.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: message.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: this.queueArn,
        awsRegion: 'local',
      };
      try {
        await this.starter.start([record]);
      } catch (error) {
        this.errors.push(`could not start an execution for message ${message.MessageId}: ${(error as Error).message}`);
        continue; // left on the queue: it comes back, and goes to the DLQ after the max receive count
      }
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }));
      started += 1;
    }
    return started;
  }
}
