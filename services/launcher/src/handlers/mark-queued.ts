import { markQueued as mark } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';

export const markQueued: RawHandler<{ status: 'queued' }, 'evalai'> =
  ({ plane }) =>
  async (event) => {
    await mark(plane, parseTaskInput(taskInputs.submission, event).submission);
    return { status: 'queued' };
  };

export const handler = lambdaHandler(markQueued, { evalai: evalAiHost });
