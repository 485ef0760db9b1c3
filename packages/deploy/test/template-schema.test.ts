import { describe, expect, it } from '@jest/globals';
import { templateProblems } from '../src/template-schema.js';

const queue = { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q', VisibilityTimeout: 300 } };

describe('templateProblems (the CloudFormation registry’s schemas)', () => {
  it('accepts a valid template, with intrinsic functions standing in for values', async () => {
    const template = {
      Resources: {
        Queue: queue,
        Alarm: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            ComparisonOperator: 'GreaterThanThreshold',
            EvaluationPeriods: 1,
            Threshold: 0,
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Namespace: 'AWS/SQS',
            Statistic: 'Sum',
            Period: 60,
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['Queue', 'QueueName'] } }],
          },
        },
      },
      Outputs: { QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } } },
    };
    await expect(templateProblems(template)).resolves.toEqual([]);
  }, 30_000);

  it('names each unknown property, wrong type, missing requirement, unknown type and unreadable attribute', async () => {
    const template = {
      Resources: {
        Queue: { ...queue, Properties: { ...queue.Properties, VisibilityTimeOut: 30, DelaySeconds: 'soon' } },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
        Nothing: { Type: 'AWS::Nope::Thing', Properties: {} },
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: { AssumeRolePolicyDocument: {}, Policies: [{ PolicyName: 'p', PolicyDocument: {}, Extra: 1 }] },
        },
      },
      Outputs: { Url: { Value: { 'Fn::GetAtt': ['Queue', 'Endpoint'] } } },
    };
    expect((await templateProblems(template)).sort()).toEqual([
      'Nothing: no resource type AWS::Nope::Thing',
      'Outputs.Url.Value: AWS::SQS::Queue has no attribute Endpoint',
      'Queue.Properties.DelaySeconds: must be a number',
      'Queue.Properties.VisibilityTimeOut: unknown property',
      'Role.Properties.Policies[0].Extra: unknown property',
      'Table.Properties.KeySchema: required',
    ]);
  }, 30_000);
});
