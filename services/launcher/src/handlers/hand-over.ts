import { type HandOverInput, handOver as handOverTo } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { stepFunctionsExecutions } from '@pitwall/lambda-kit/step-functions';

export const handOver: RawHandler<{ executionId: string }, 'starter'> =
  ({ plane }) =>
  async (event) =>
    handOverTo(plane, parseTaskInput(taskInputs.handOver, event) as HandOverInput);

export const handler = lambdaHandler(handOver, { starter: stepFunctionsExecutions });
