import { awaitAdmission as wait } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { TASKS } from '@pitwall/workflow';

/** One look at the submission's place in Pitwall's queue: admitted, still waiting, or cancelled meanwhile. */
export const awaitAdmission: TaskHandler<'AwaitAdmission', 'evalai'> =
  ({ plane }) =>
  async (event) =>
    wait(plane, parseTaskInput(TASKS.AwaitAdmission.input, event));

export const handler = lambdaHandler(awaitAdmission, { evalai: evalAiHost });
