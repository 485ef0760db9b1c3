import { deleteJobs as deleteAll } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

export const deleteJobs: RawHandler<{ deleted: number }, 'jobs'> =
  ({ plane }) =>
  async (event) =>
    deleteAll(plane, parseTaskInput(taskInputs.submission, event).submission);

export const handler = lambdaHandler(deleteJobs, { jobs: kubernetesJobRunner });
