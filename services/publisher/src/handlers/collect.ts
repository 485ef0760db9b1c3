import { type CollectedOutcome, collectResults } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';

export const collect: RawHandler<CollectedOutcome, 'artifacts' | 'jobs'> =
  ({ plane }) =>
  async (event) =>
    collectResults(plane, parseTaskInput(taskInputs.collect, event));

export const handler = lambdaHandler(collect, { artifacts: s3ArtifactStore, jobs: kubernetesJobRunner });
