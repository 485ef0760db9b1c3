import { describe, expect, it } from '@jest/globals';
import { lambdaInvokers, runStateMachine } from '@pitwall/local';

const message = {
  messageId: 'm-1',
  eventSource: 'aws:sqs',
  body: JSON.stringify({ challenge_pk: '1', phase_pk: '1', submission_pk: 7, submitted_image_uri: 'local/agent:good' }),
};

describe('the Lambda entry points in the local engine', () => {
  it('read their configuration from the host’s environment, as a Lambda does, and stop on a mistake in it', async () => {
    const invokers = lambdaInvokers({ env: { EVALAI_API_SERVER: 'not a url' } });
    const result = await runStateMachine(invokers, [message], { retryMs: 1 });
    expect(result.status).toBe('FAILED');
    // Register's cold start failed on the environment, naming the first variable; HandleFailure's too, so
    // the execution ends where the sweeper takes over.
    expect(result.path).toEqual(['Start', 'Receive', 'Register', 'HandleFailure', 'FailureUnreported']);
    const caught = result.events.find((event) => event.type === 'StateFailed' && event.state?.name === 'HandleFailure');
    expect((caught?.state as { input?: unknown } | undefined)?.input).toMatchObject({
      error: {
        Error: 'ConfigurationError',
        Cause: 'environment variable PITWALL_TABLE: Invalid input: expected string, received undefined',
      },
    });
  });
});
