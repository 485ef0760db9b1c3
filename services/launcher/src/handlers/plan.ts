import { planSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';

export const plan: RawHandler<Awaited<ReturnType<typeof planSubmission>>, 'artifacts'> =
  ({ plane }) =>
  async (event) =>
    planSubmission(plane, parseTaskInput(taskInputs.submission, event).submission);

export const handler = lambdaHandler(plan, { artifacts: s3ArtifactStore });
