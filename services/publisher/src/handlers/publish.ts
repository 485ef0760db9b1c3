import { publishOutcome } from '@pitwall/domain';
import { idempotentOn, lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';

type Input = Parameters<typeof publishOutcome>[1];

/** The terminal PUT to EvalAI, once per attempt. */
export const publish: RawHandler<Awaited<ReturnType<typeof publishOutcome>>, 'artifacts' | 'evalai'> = ({
  plane,
  idempotency,
}) => {
  const publishOnce = idempotentOn(idempotency, '[submission.submissionPk, submission.attempt]', (input: Input) =>
    publishOutcome(plane, input),
  );
  return async (event, context) => publishOnce(parseTaskInput(taskInputs.publish, event) as Input, context);
};

export const handler = lambdaHandler(publish, { artifacts: s3ArtifactStore, evalai: evalAiHost });
