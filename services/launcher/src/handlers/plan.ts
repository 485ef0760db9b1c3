import { planSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';
import { TASKS } from '@pitwall/workflow';

export const plan: TaskHandler<'Plan', 'artifacts'> =
  ({ plane }) =>
  async (event) =>
    planSubmission(plane, parseTaskInput(TASKS.Plan.input, event).submission);

export const handler = lambdaHandler(plan, { artifacts: s3ArtifactStore });
