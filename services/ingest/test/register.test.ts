import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { EvalAiEmulator } from '@pitwall/emulators';
import { setLambdaTestEnvironment } from '@pitwall/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';

// The Lambda reads its environment once, at cold start, so it is set before the handler is imported.
const emulator = new EvalAiEmulator({
  challengePk: 5,
  phases: [{ pk: 9, codename: 'sensors', splits: ['leaderboard'] }],
  labels: ['Driving score'],
  hostToken: 'secret-token',
});
const url = await emulator.start();
setLambdaTestEnvironment({ evalaiUrl: url, challengePk: 5, phasePk: 9, allowedImages: ['^registry\\.example/'] });
const { handler } = await import('../src/handlers/register.js');

const dynamo = mockClient(DynamoDBDocumentClient);
const secrets = mockClient(SecretsManagerClient);
const context = {
  functionName: 'pitwall-register',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30_000,
} as never;

beforeAll(() => {
  secrets.on(GetSecretValueCommand, { SecretId: 'pitwall/evalai-token' }).resolves({ SecretString: 'secret-token' });
});
beforeEach(() => {
  dynamo.reset();
  dynamo.on(GetCommand).resolves({});
  dynamo.on(BatchGetCommand).resolves({ Responses: {} }); // the shared EvalAI request budget: every slot free
  dynamo.on(UpdateCommand).resolves({});
});
afterAll(() => emulator.close());

let team = 0;
function delivery(imageUri = 'registry.example/team:1') {
  const s = emulator.createSubmission({ phasePk: 9, teamPk: ++team, teamName: 'Team', imageUri });
  return {
    pk: s.id,
    event: { event: [{ messageId: 'm', receiptHandle: 'r', body: emulator.messageFor(s.id) }], executionId: 'exec-1' },
  };
}

describe('ingest register Lambda', () => {
  it('registers with a conditional write, using the token from Secrets Manager', async () => {
    dynamo.on(PutCommand).resolves({});
    const { pk, event } = delivery();
    const result = await handler(event, context);
    expect(result).toMatchObject({
      action: 'run',
      submission: { submissionPk: pk, challengePk: 5, phasePk: 9, attempt: 1 },
    });
    const put = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put?.Item).toMatchObject({ pk: `SUB#${pk}`, status: 'received', executionId: 'exec-1' });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('skips a duplicate delivery when the conditional write is refused', async () => {
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const { event } = delivery();
    expect(await handler(event, context)).toMatchObject({ action: 'skip' });
  });

  it('rejects an image from an unknown registry with a reason for the participant', async () => {
    dynamo.on(PutCommand).resolves({});
    const { event } = delivery('docker.io/me/agent:1');
    const result = await handler(event, context);
    expect(result).toMatchObject({ action: 'reject' });
    expect((result as { reason: string }).reason).toContain('does not come from an allowed registry');
  });

  it('throws a named error for a task input the state machine never sends', async () => {
    const error = await handler({ nothing: true }, context).catch((e: unknown) => e);
    expect((error as Error).name).toBe('InvalidTaskInputError');
    expect((error as Error).message).toContain('task input event');
  });
});
