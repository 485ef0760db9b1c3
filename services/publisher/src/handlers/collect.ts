import { type CollectedOutcome, collectResults } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

export const collect: RawHandler<CollectedOutcome> =
  ({ plane }) =>
  async (event) =>
    collectResults(plane, parseTaskInput(taskInputs.collect, event));

export const handler = lambdaHandler(collect, { jobs: kubernetesJobRunner });
