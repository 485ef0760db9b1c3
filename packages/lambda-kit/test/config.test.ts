import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, readLambdaConfig } from '../src/index.js';
import { TEST_CLUSTER_SETTINGS } from '../src/testing.js';

const env = {
  PITWALL_TABLE: 'pitwall-submissions',
  PITWALL_IDEMPOTENCY_TABLE: 'pitwall-idempotency',
  PITWALL_BUCKET: 'pitwall-artifacts',
  EVALAI_API_SERVER: 'https://eval.ai',
  EVALAI_TOKEN_SECRET: 'pitwall/evalai',
  PITWALL_CHALLENGE_CONFIG: JSON.stringify({
    challengePk: 5,
    phases: { 9: { track: 'SENSORS', routesKey: 'routes/s.xml', workers: 4, timeLimitSeconds: 7200 } },
    allowedImages: ['^1234\\.dkr\\.ecr\\.'],
  }),
};

describe('readLambdaConfig', () => {
  it('parses the environment into a typed configuration with defaults', () => {
    const config = readLambdaConfig(env);
    expect(config.evalai).toEqual({
      apiServer: 'https://eval.ai',
      tokenSecret: 'pitwall/evalai',
      requestsPerMinute: 50,
    });
    expect(config.challenge.phases['9']).toMatchObject({ workers: 4, strategy: 'balanced', repetitions: 1 });
    expect(config.challenge.leaderboard.split).toBe('leaderboard');
    expect(config.aws.region).toBe('eu-west-1');
  });

  it('gives every AWS client the credentials the environment holds, as Lambda puts them there, or none', () => {
    expect(readLambdaConfig(env).aws).toEqual({ region: 'eu-west-1' }); // AWS's credential chain
    const withKeys = { ...env, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
    expect(readLambdaConfig(withKeys).aws).toEqual({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' },
    });
    expect(() => readLambdaConfig({ ...env, AWS_ACCESS_KEY_ID: 'AKID' })).toThrow(
      'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither',
    );
  });

  it.each([
    [{ PITWALL_TABLE: undefined }, 'environment variable PITWALL_TABLE'],
    [{ EVALAI_API_SERVER: 'not a url' }, 'environment variable EVALAI_API_SERVER'],
    [{ EVALAI_REQUESTS_PER_MINUTE: '90' }, 'environment variable EVALAI_REQUESTS_PER_MINUTE'],
    [{ EVALAI_TOKEN_SECRET: undefined }, 'set EVALAI_TOKEN_SECRET'],
    [
      { PITWALL_CHALLENGE_CONFIG: '{"challengePk": 5}' },
      'PITWALL_CHALLENGE_CONFIG is not a valid challenge configuration',
    ],
    [{ PITWALL_CHALLENGE_CONFIG: 'not json' }, 'PITWALL_CHALLENGE_CONFIG is not a valid challenge configuration'],
    [{ PITWALL_QUEUE_ARN: 'https://sqs.eu-west-1.amazonaws.com/1/q' }, 'PITWALL_QUEUE_ARN: must be an SQS queue ARN'],
  ])('refuses %p naming what is wrong', (change, message) => {
    expect(() => readLambdaConfig({ ...env, ...change })).toThrow(ConfigurationError);
    expect(() => readLambdaConfig({ ...env, ...change })).toThrow(message);
  });

  it('reads the cluster the Jobs run on, with its settings', () => {
    const settings = TEST_CLUSTER_SETTINGS;
    const config = readLambdaConfig({
      ...env,
      PITWALL_EKS_CLUSTER: 'pitwall',
      PITWALL_CLUSTER_SETTINGS: JSON.stringify(settings),
    });
    expect(config.cluster?.name).toBe('pitwall');
    expect(config.cluster?.settings).toMatchObject({ namespace: 'evaluations', backoffLimit: 4 });
    expect(() => readLambdaConfig({ ...env, PITWALL_EKS_CLUSTER: 'pitwall' })).toThrow(
      'set both PITWALL_EKS_CLUSTER and PITWALL_CLUSTER_SETTINGS',
    );
    expect(() =>
      readLambdaConfig({
        ...env,
        PITWALL_EKS_CLUSTER: 'p',
        PITWALL_CLUSTER_SETTINGS: JSON.stringify({ ...settings, logcopyCredentials: { roleArn: 'x' } }),
      }),
    ).toThrow('PITWALL_CLUSTER_SETTINGS is not valid');
  });

  it('refuses an image pattern that is not a regular expression', () => {
    const config = JSON.parse(env.PITWALL_CHALLENGE_CONFIG);
    config.allowedImages = ['(unclosed'];
    expect(() => readLambdaConfig({ ...env, PITWALL_CHALLENGE_CONFIG: JSON.stringify(config) })).toThrow(
      'must be a valid regular expression',
    );
  });
});
