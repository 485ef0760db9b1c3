import { collectResults } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';
import { TASKS } from '@pitwall/workflow';

export const collect: TaskHandler<'Collect', 'artifacts' | 'jobs'> =
  ({ plane }) =>
  async (event) =>
    collectResults(plane, parseTaskInput(TASKS.Collect.input, event));

export const handler = lambdaHandler(collect, { artifacts: s3ArtifactStore, jobs: kubernetesJobRunner });
