import { launchWorker as launch } from '@pitwall/domain';
import { idempotentOn, lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

/** One Job per worker, once per attempt: a repeated launch returns the first result. */
export const launchWorker: RawHandler<Awaited<ReturnType<typeof launch>>, 'jobs'> = ({ plane, idempotency }) => {
  const launchOnce = idempotentOn(
    idempotency,
    '[submission.submissionPk, submission.attempt, worker]',
    (input: { submission: Parameters<typeof launch>[1]['submission']; worker: number }) => launch(plane, input),
  );
  return async (event, context) => launchOnce(parseTaskInput(taskInputs.launchWorker, event), context);
};

export const handler = lambdaHandler(launchWorker, { jobs: kubernetesJobRunner });
