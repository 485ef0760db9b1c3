import { type WorkerJobSpec, workerJobName } from '@pitwall/domain';
import { parseClusterSettings } from '../../src/index.js';

export const settings = parseClusterSettings({
  images: {
    simulator: '342236305043.dkr.ecr.us-west-2.amazonaws.com/leaderboard-20-simulator:0.9.15',
    evaluator: '342236305043.dkr.ecr.us-west-2.amazonaws.com/leaderboard-20-evaluator:2.0',
    logcopy: '342236305043.dkr.ecr.us-west-2.amazonaws.com/pitwall-logcopy:1',
  },
  logcopyCredentials: { roleArn: 'arn:aws:iam::342236305043:role/pitwall-logcopy' },
  region: 'us-west-2',
  awsEndpoints: {
    s3: 'https://bucket.vpce-0123456789abcdef0-a1b2c3d4.s3.us-west-2.vpce.amazonaws.com',
    dynamodb: 'https://vpce-0123456789abcdef1-b2c3d4e5.dynamodb.us-west-2.vpce.amazonaws.com',
  },
  bucket: 'pitwall-artifacts',
  table: 'pitwall-submissions',
  instanceTypes: { SENSORS: 'g5.2xlarge', MAP: 'g5.xlarge' },
});

export function spec(overrides: Partial<WorkerJobSpec> = {}): WorkerJobSpec {
  const base = { teamName: 'Team Alpha', track: 'SENSORS', submissionPk: 1351, worker: 2, attempt: 1 };
  const merged = { ...base, ...overrides };
  return {
    name: workerJobName({
      team: merged.teamName,
      track: merged.track,
      submissionId: merged.submissionPk,
      worker: merged.worker,
      attempt: merged.attempt,
    }),
    teamPk: 265,
    image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/leaderboard-20-participant-team-265:bb55',
    routesKey: 'routes/routes_testing.xml',
    routesSubset: '0-4',
    repetitions: 1,
    resume: false,
    capacity: 'on-demand',
    activeDeadlineSeconds: 86_700,
    artifactPrefix: `submissions/${merged.submissionPk}/workers/${merged.worker}/`,
    ...merged,
  };
}
