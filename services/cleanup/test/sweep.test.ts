import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from '@jest/globals';
import { EvalAiEmulator } from '@pitwall/emulators';
import { setLambdaTestEnvironment, TEST_CLUSTER_SETTINGS } from '@pitwall/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';

const emulator = new EvalAiEmulator({
  challengePk: 5,
  phases: [{ pk: 9, codename: 's', splits: ['s'] }],
  labels: [],
  hostToken: 't',
});
setLambdaTestEnvironment({ evalaiUrl: await emulator.start(), challengePk: 5, phasePk: 9, allowedImages: ['^.*'] });
Object.assign(process.env, {
  PITWALL_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:pitwall-evaluate-submission-test',
  PITWALL_EKS_CLUSTER: 'pitwall',
  PITWALL_CLUSTER_SETTINGS: JSON.stringify(TEST_CLUSTER_SETTINGS),
});
const { handler } = await import('../src/handlers/sweep.js');
const dynamo = mockClient(DynamoDBDocumentClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).resolves({ SecretString: 't' });
mockClient(EKSClient).on(DescribeClusterCommand).rejects(new Error('the cluster is being created'));
afterAll(() => emulator.close());

describe('cleanup sweep Lambda', () => {
  it('reads the submissions needing attention page by page from the sparse index', async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'SUB#1' } })
      .resolvesOnce({ Items: [] });
    const report = await handler({ source: 'aws.scheduler' }, { getRemainingTimeInMillis: () => 60_000 } as never);
    // The cluster does not answer: the orphan check says so instead of failing the sweep.
    expect(report).toEqual({
      examined: 0,
      failed: [],
      failureClasses: {},
      costs: [],
      activeByStatus: {},
      workersRunning: 0,
      orphans: [],
      errors: [expect.stringContaining('the jobs could not be listed for the orphan check')],
    });
    const queries = dynamo.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatchObject({
      IndexName: 'active-by-deadline',
      ExpressionAttributeValues: { ':active': '1' },
    });
    expect(queries[1]?.ExclusiveStartKey).toEqual({ pk: 'SUB#1' });
  });
});
