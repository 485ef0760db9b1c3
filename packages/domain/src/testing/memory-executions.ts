import type { ExecutionProbe, ExecutionStarter } from '../control/ports.js';

/** Executions in memory: started by name (a name already used is the same execution), alive until ended. */
export class MemoryExecutions implements ExecutionProbe, ExecutionStarter {
  readonly started = new Map<string, unknown>();
  readonly running = new Set<string>();

  async start(input: unknown, name = crypto.randomUUID()): Promise<string> {
    const id = `arn:aws:states:local:000000000000:execution:evaluate-submission:${name}`;
    if (!this.started.has(id)) {
      this.started.set(id, input);
      this.running.add(id);
    }
    return id;
  }

  async isRunning(executionId: string): Promise<boolean> {
    return this.running.has(executionId);
  }

  end(executionId: string): void {
    this.running.delete(executionId);
  }
}
