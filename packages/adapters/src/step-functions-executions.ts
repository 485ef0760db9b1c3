import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionProbe, ExecutionStarter } from '@pitwall/domain';

/** Executions of the evaluate-submission state machine on AWS Step Functions. */
export class StepFunctionsExecutions implements ExecutionStarter, ExecutionProbe {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: unknown): Promise<string> {
    const { executionArn } = await this.client.send(
      new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, input: JSON.stringify(input) }),
    );
    if (!executionArn) throw new Error('Step Functions returned no execution ARN');
    return executionArn;
  }

  async isRunning(executionId: string): Promise<boolean> {
    try {
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn: executionId }));
      return status === 'RUNNING';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return false;
      throw error;
    }
  }
}
