import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from '@jest/globals';
import { EvalAiEmulator } from '@pitwall/emulators';
import { setLambdaTestEnvironment } from '@pitwall/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';

// Submissions stamped 20 minutes ago: past the reconciler's grace period.
const emulator = new EvalAiEmulator({
  challengePk: 5,
  phases: [{ pk: 9, codename: 's', splits: ['s'] }],
  labels: [],
  hostToken: 't',
  now: () => Date.now() - 20 * 60_000,
});
setLambdaTestEnvironment({ evalaiUrl: await emulator.start(), challengePk: 5, phasePk: 9, allowedImages: ['^.*'] });
process.env.PITWALL_QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:pitwall-test-submissions';
const { handler } = await import('../src/handlers/reconcile.js');
const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).resolves({ SecretString: 't' });
afterAll(() => emulator.close());

describe('cleanup reconcile Lambda', () => {
  it('re-sends the message of a submission with no record to the queue named by its ARN', async () => {
    const lost = emulator.createSubmission({ phasePk: 9, teamPk: 1, teamName: 'T', imageUri: 'img' });
    dynamo.on(GetCommand).resolves({});
    dynamo.on(BatchGetCommand).resolves({ Responses: {} }); // the EvalAI request budget: every slot free
    dynamo.on(UpdateCommand).resolves({ Attributes: { count: 1 } });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const report = await handler({ source: 'aws.scheduler' }, { getRemainingTimeInMillis: () => 60_000 } as never);
    expect(report).toEqual({ waiting: 1, resent: [lost.id], failed: [], errors: [] });
    const sent = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(sent?.QueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/pitwall-test-submissions');
    expect(JSON.parse(sent?.MessageBody ?? '{}')).toEqual({ challenge_pk: '5', phase_pk: '9', submission_pk: lost.id });
  });
});
