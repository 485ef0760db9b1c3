import { type Registration, registerSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';

/** Register: the first task of an execution; the event is whatever the Pipe delivered. */
export const register: RawHandler<Registration> =
  ({ plane }) =>
  async (event) =>
    registerSubmission(plane, parseTaskInput(taskInputs.register, event));

export const handler = lambdaHandler(register);
