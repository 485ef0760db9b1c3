import type { SubmissionQueue } from '../control/ports.js';

/** The submissions queue in memory: what was sent, in order. */
export class MemorySubmissionQueue implements SubmissionQueue {
  readonly sent: Parameters<SubmissionQueue['send']>[0][] = [];

  async send(message: Parameters<SubmissionQueue['send']>[0]): Promise<void> {
    this.sent.push(message);
  }
}
