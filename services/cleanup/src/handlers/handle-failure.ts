import { handleFailure as fail, type Registration } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, type RawHandler, taskInputs } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

/** Where every Catch of the state machine leads: the whole state comes in, with `error`, and the execution's id. */
export const handleFailure: RawHandler<Awaited<ReturnType<typeof fail>>, 'evalai' | 'jobs'> =
  ({ plane }) =>
  async (event) => {
    const { state, executionId } = parseTaskInput(taskInputs.handleFailure, event);
    return fail(plane, {
      registration: state.registration as Registration | undefined,
      event: state.event,
      error: state.error,
      executionId,
    });
  };

export const handler = lambdaHandler(handleFailure, { evalai: evalAiHost, jobs: kubernetesJobRunner });
