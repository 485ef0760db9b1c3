import { registerSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { TASKS } from '@pitwall/workflow';

/** Register: the first task of an execution; the event is whatever the Pipe delivered. */
export const register: TaskHandler<'Register', 'evalai'> =
  ({ plane }) =>
  async (event) =>
    registerSubmission(plane, parseTaskInput(TASKS.Register.input, event));

export const handler = lambdaHandler(register, { evalai: evalAiHost });
