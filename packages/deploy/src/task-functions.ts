import { ACTIVE_INDEX } from '@pitwall/adapters';
import { type ServiceName, TASKS, type TaskDefinition, type TaskGrant } from '@pitwall/workflow';

/** What one stage's Serverless files need to know to name its resources. */
export interface TaskDeploymentContext {
  readonly stage: string;
  readonly table: string;
  readonly bucket: string;
  readonly clusterName: string;
  readonly clusterSettingsJson: string;
}

type Statement = { Effect: 'Allow'; Action: string[]; Resource: unknown };
const sub = (text: string) => ({ 'Fn::Sub': text });
const capitalized = (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}`;
const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The state machine every Task runs in; HandOver starts its next execution. */
export const stateMachineArn = (stage: string) =>
  sub(`arn:aws:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:pitwall-evaluate-submission-${stage}`);

function statement(grant: TaskGrant, context: TaskDeploymentContext): Statement {
  const { stage, table, bucket, clusterName } = context;
  const tableArn = `arn:aws:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${table}`;
  const allow = (Action: string[], Resource: unknown): Statement => ({ Effect: 'Allow', Action, Resource });
  if (grant === 'activeIndex') return allow(['dynamodb:Query'], sub(`${tableArn}/index/${ACTIVE_INDEX}`));
  if (grant === 'idempotency') {
    const actions = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map((a) => `dynamodb:${a}`);
    return allow(actions, sub(`${tableArn}-idempotency`));
  }
  if (grant === 'evalaiToken') {
    const secret = `arn:aws:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:pitwall/${stage}/evalai-token-*`;
    return allow(['secretsmanager:GetSecretValue'], sub(secret));
  }
  if (grant === 'cluster') {
    return allow(['eks:DescribeCluster'], sub(`arn:aws:eks:\${AWS::Region}:\${AWS::AccountId}:cluster/${clusterName}`));
  }
  if (grant === 'startExecution') return allow(['states:StartExecution'], stateMachineArn(stage));
  if ('table' in grant)
    return allow(
      grant.table.map((a) => `dynamodb:${a}`),
      sub(tableArn),
    );
  return allow(
    grant.objects.map((a) => `s3:${a}`),
    `arn:aws:s3:::${bucket}/${grant.under}/*`,
  );
}

function functionOf(task: TaskDefinition, context: TaskDeploymentContext) {
  const environment: Record<string, unknown> = { POWERTOOLS_SERVICE_NAME: task.service };
  if (task.grants.includes('cluster')) {
    environment.PITWALL_EKS_CLUSTER = context.clusterName;
    environment.PITWALL_CLUSTER_SETTINGS = context.clusterSettingsJson;
  }
  if (task.grants.includes('startExecution')) environment.PITWALL_STATE_MACHINE_ARN = stateMachineArn(context.stage);
  return {
    handler: `src/handlers/${kebab(task.function)}.handler`,
    role: `${capitalized(task.function)}Role`,
    ...(task.timeoutSeconds ? { timeout: task.timeoutSeconds } : {}),
    environment,
  };
}

function roleOf(task: TaskDefinition, context: TaskDeploymentContext) {
  const logGroup = `arn:aws:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/pitwall-${task.service}-${context.stage}-${task.function}:*`;
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: task.function,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: sub(logGroup) },
              // X-Ray has no resource-level permissions: "*" is the only resource it accepts.
              { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
              ...task.grants.map((grant) => statement(grant, context)),
            ],
          },
        },
      ],
    },
  };
}

/**
 * Each service's Task functions and their roles, from the task table: what the services' serverless.yml
 * read from the stage's file (`tasks.<service>.functions`, `tasks.<service>.roles`), beside their own.
 */
export function taskDeployment(context: TaskDeploymentContext) {
  const services: Record<ServiceName, { functions: Record<string, unknown>; roles: Record<string, unknown> }> = {
    ingest: { functions: {}, roles: {} },
    launcher: { functions: {}, roles: {} },
    publisher: { functions: {}, roles: {} },
    cleanup: { functions: {}, roles: {} },
  };
  for (const task of Object.values(TASKS)) {
    services[task.service].functions[task.function] = functionOf(task, context);
    services[task.service].roles[`${capitalized(task.function)}Role`] = roleOf(task, context);
  }
  return services;
}
