import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
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

  async start(input: unknown, name?: string): Promise<string> {
    try {
      const { executionArn } = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          input: JSON.stringify(input),
          ...(name ? { name } : {}),
        }),
      );
      if (!executionArn) throw new Error('Step Functions returned no execution ARN');
      return executionArn;
    } catch (error) {
      // A retried start: the execution of that name is already there (running or not, it is ours).
      if (name && error instanceof ExecutionAlreadyExists) return executionArnOf(this.stateMachineArn, name);
      throw error;
    }
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

/** arn:…:stateMachine:<machine> → arn:…:execution:<machine>:<name> */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
