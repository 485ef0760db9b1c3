import { handOver as handOverTo } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { stepFunctionsExecutions } from '@pitwall/lambda-kit/step-functions';
import { TASKS } from '@pitwall/workflow';

export const handOver: TaskHandler<'HandOver', 'starter'> =
  ({ plane }) =>
  async (event) =>
    handOverTo(plane, parseTaskInput(TASKS.HandOver.input, event));

export const handler = lambdaHandler(handOver, { starter: stepFunctionsExecutions });
