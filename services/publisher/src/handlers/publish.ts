import { publishOutcome } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';

type Input = Parameters<typeof publishOutcome>[1];

/**
 * The terminal PUT to EvalAI. Safe to run again as it stands, with no idempotency record: a settled record
 * returns at once, EvalAI upserts a result per submission and split, and granting a qualification is a
 * put. An idempotency record left in progress by a try that was killed would block every retry.
 */
export const publish: RawHandler<Awaited<ReturnType<typeof publishOutcome>>, 'artifacts' | 'evalai'> =
  ({ plane }) =>
  async (event) =>
    publishOutcome(plane, parseTaskInput(taskInputs.publish, event) as Input);

export const handler = lambdaHandler(publish, { artifacts: s3ArtifactStore, evalai: evalAiHost });
