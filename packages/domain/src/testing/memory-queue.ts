import type { EvalAiQueueProxy, QueuedMessage, SubmissionQueue } from '../control/ports.js';

/** The submissions queue in memory: what was sent, in order. */
export class MemorySubmissionQueue implements SubmissionQueue {
  readonly sent: Parameters<SubmissionQueue['send']>[0][] = [];

  async send(message: Parameters<SubmissionQueue['send']>[0]): Promise<void> {
    this.sent.push(message);
  }
}

/** EvalAI's REST queue proxy in memory: a message handed out stays invisible until deleted or `redeliver()`. */
export class MemoryQueueProxy implements EvalAiQueueProxy {
  private readonly messages: { body: unknown; handle: string; out: boolean }[] = [];
  private handles = 0;
  /** Set to make the next delete fail, as a dropped connection would. */
  failNextDelete = false;

  publish(body: unknown): void {
    this.messages.push({ body, handle: '', out: false });
  }

  /** Every message handed out and not deleted becomes visible again (its visibility timeout passed). */
  redeliver(): void {
    for (const message of this.messages) message.out = false;
  }

  get waiting(): number {
    return this.messages.length;
  }

  async receive(): Promise<QueuedMessage | undefined> {
    const message = this.messages.find((m) => !m.out);
    if (!message) return undefined;
    message.out = true;
    message.handle = `handle-${++this.handles}`;
    return { body: message.body, receiptHandle: message.handle };
  }

  async delete(receiptHandle: string): Promise<void> {
    if (this.failNextDelete) {
      this.failNextDelete = false;
      throw new Error('connection reset');
    }
    const at = this.messages.findIndex((m) => m.handle === receiptHandle);
    if (at >= 0) this.messages.splice(at, 1);
  }
}
