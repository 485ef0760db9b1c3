import { markQueued as mark, type PollState } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';

/** The poll loop's first state: waiting for the workers, or cancelled before anything was written. */
export const markQueued: RawHandler<PollState, 'evalai'> =
  ({ plane }) =>
  async (event) =>
    mark(plane, parseTaskInput(taskInputs.submission, event).submission);

export const handler = lambdaHandler(markQueued, { evalai: evalAiHost });
