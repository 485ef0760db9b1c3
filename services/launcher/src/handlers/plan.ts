import { planSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';

export const plan: RawHandler<Awaited<ReturnType<typeof planSubmission>>> =
  ({ plane }) =>
  async (event) =>
    planSubmission(plane, parseTaskInput(taskInputs.submission, event).submission);

export const handler = lambdaHandler(plan);
