import { observeSubmission, type PollState } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';

export const observe: RawHandler<PollState, 'artifacts' | 'evalai' | 'jobs'> =
  ({ plane }) =>
  async (event) =>
    observeSubmission(plane, parseTaskInput(taskInputs.observe, event));

export const handler = lambdaHandler(observe, {
  artifacts: s3ArtifactStore,
  evalai: evalAiHost,
  jobs: kubernetesJobRunner,
});
