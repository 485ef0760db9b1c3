import { markQueued as mark } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { TASKS } from '@pitwall/workflow';

/** The poll loop's first state: waiting for the workers, or cancelled before anything was written. */
export const markQueued: TaskHandler<'MarkQueued', 'evalai'> =
  ({ plane }) =>
  async (event) =>
    mark(plane, parseTaskInput(TASKS.MarkQueued.input, event).submission);

export const handler = lambdaHandler(markQueued, { evalai: evalAiHost });
