import { deleteJobs as deleteAll, scheduleAdmissions } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { TASKS } from '@pitwall/workflow';

/** The run's jobs go, and its slots in Pitwall's queue: the capacity released goes to whoever waits next. */
export const deleteJobs: TaskHandler<'Cleanup', 'jobs'> =
  ({ plane }) =>
  async (event) => {
    const deleted = await deleteAll(plane, parseTaskInput(TASKS.Cleanup.input, event).submission);
    await scheduleAdmissions(plane);
    return deleted;
  };

export const handler = lambdaHandler(deleteJobs, { jobs: kubernetesJobRunner });
