/** Cluster settings that parse, for tests of the functions that talk to the cluster. */
export const TEST_CLUSTER_SETTINGS = {
  images: { simulator: 's', evaluator: 'e', logcopy: 'l' },
  logcopyCredentials: { roleArn: 'arn:aws:iam::123456789012:role/pitwall-logcopy' },
  region: 'us-west-2',
  awsEndpoints: { s3: 'https://s3.example', dynamodb: 'https://dynamodb.example' },
  bucket: 'pitwall-artifacts',
  table: 'pitwall-submissions',
  instanceTypes: { SENSORS: 'g5.2xlarge' },
} as const;

/**
 * The environment a Pitwall Lambda expects, for tests of the middy-wrapped entry points: quiet
 * Powertools, fake AWS credentials (the SDK clients are mocked), and one SENSORS phase.
 * Set it before importing a handler: the Lambda reads its environment once, at cold start.
 */
export function setLambdaTestEnvironment(options: {
  evalaiUrl: string;
  challengePk: number;
  phasePk: number;
  allowedImages: string[];
}) {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    PITWALL_TABLE: 'pitwall-submissions',
    PITWALL_IDEMPOTENCY_TABLE: 'pitwall-idempotency',
    PITWALL_BUCKET: 'pitwall-artifacts',
    EVALAI_API_SERVER: options.evalaiUrl,
    EVALAI_TOKEN_SECRET: 'pitwall/evalai-token',
    PITWALL_CHALLENGE_CONFIG: JSON.stringify({
      challengePk: options.challengePk,
      phases: {
        [options.phasePk]: { track: 'SENSORS', routesKey: 'routes/sensors.xml', workers: 2, timeLimitSeconds: 600 },
      },
      allowedImages: options.allowedImages,
    }),
  });
}
