import { observeSubmission, type PollState } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

export const observe: RawHandler<PollState> =
  ({ plane }) =>
  async (event) =>
    observeSubmission(plane, parseTaskInput(taskInputs.observe, event));

export const handler = lambdaHandler(observe, { jobs: kubernetesJobRunner });
