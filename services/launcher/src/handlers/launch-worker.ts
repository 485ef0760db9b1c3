import { launchWorker as launch } from '@pitwall/domain';
import { idempotentOn, lambdaHandler, parseTaskInput, type TaskHandler } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { TASKS, type TaskInput } from '@pitwall/workflow';

/** One Job per worker, once per attempt: a repeated launch returns the first result. */
export const launchWorker: TaskHandler<'LaunchWorker', 'jobs'> = ({ plane, idempotency }) => {
  const launchOnce = idempotentOn(
    idempotency,
    '[submission.submissionPk, submission.attempt, worker]',
    (input: TaskInput<'LaunchWorker'>) => launch(plane, input),
  );
  return async (event, context) => launchOnce(parseTaskInput(TASKS.LaunchWorker.input, event), context);
};

export const handler = lambdaHandler(launchWorker, { jobs: kubernetesJobRunner });
