import { deleteJobs as deleteAll } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, TASKS, type TaskHandler } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

export const deleteJobs: TaskHandler<'Cleanup', 'jobs'> =
  ({ plane }) =>
  async (event) =>
    deleteAll(plane, parseTaskInput(TASKS.Cleanup.input, event).submission);

export const handler = lambdaHandler(deleteJobs, { jobs: kubernetesJobRunner });
