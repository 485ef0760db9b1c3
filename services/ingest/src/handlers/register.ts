import { type Registration, registerSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';

/** Register: the first task of an execution; the event is whatever the Pipe delivered. */
export const register: RawHandler<Registration, 'evalai'> =
  ({ plane }) =>
  async (event) =>
    registerSubmission(plane, parseTaskInput(taskInputs.register, event));

export const handler = lambdaHandler(register, { evalai: evalAiHost });
