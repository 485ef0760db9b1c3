import { observeSubmission } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';
import { TASKS } from '@pitwall/workflow';

export const observe: TaskHandler<'Observe', 'artifacts' | 'evalai' | 'jobs'> =
  ({ plane }) =>
  async (event) =>
    observeSubmission(plane, parseTaskInput(TASKS.Observe.input, event));

export const handler = lambdaHandler(observe, {
  artifacts: s3ArtifactStore,
  evalai: evalAiHost,
  jobs: kubernetesJobRunner,
});
