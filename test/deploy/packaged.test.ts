import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idempotencyTable, submissionsTable } from '@pitwall/adapters';
import { offlineParams, packageService, prepareStage, SERVICES, templateProblems } from '@pitwall/deploy';
import { TASKS } from '@pitwall/workflow';
import { loadStateMachine } from '@pitwall/workflow/state-machine';
import AdmZip from 'adm-zip';
import { parse } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are walked freely
type Cfn = Record<string, any>;
const root = fileURLToPath(new URL('../../', import.meta.url));
const STAGE = 'ci';
const templates: Record<string, Cfn> = {};
/** What compose passes a service from another's outputs, as `pnpm package` gives it offline. */
const offlineParam = (name: string) =>
  offlineParams(STAGE, 'us-west-2')
    .find((p) => p.startsWith(`${name}=`))
    ?.slice(name.length + 1);
const resources = () => Object.values(templates).flatMap((t) => Object.entries(t.Resources as Cfn));
/** Each function's zip, by the name its CloudFormation resource points at. */
const zips: Record<string, AdmZip> = {};

beforeAll(() => {
  const { region } = prepareStage(STAGE);
  for (const service of SERVICES) {
    expect(packageService(service, STAGE, region)).toBe(0);
    templates[service] = JSON.parse(
      readFileSync(join(root, 'services', service, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
    );
    const dir = join(root, 'services', service, '.serverless');
    for (const zip of readdirSync(dir).filter((f) => f.endsWith('.zip'))) zips[zip] = new AdmZip(join(dir, zip));
  }
}, 240_000);

describe('the packaged CloudFormation (pnpm package, offline)', () => {
  it.each([...SERVICES])(
    'matches CloudFormation’s own resource schemas: %s (types, properties, values, GetAtt attributes)',
    async (service) => {
      expect(await templateProblems(templates[service] as Cfn)).toEqual([]);
    },
  );

  it('has every service its stacks create resources of in the deployer’s policy of docs/hosting-aws.md', () => {
    const doc = readFileSync(join(root, 'docs', 'hosting-aws.md'), 'utf8');
    const block = /<!-- deployer-policy[^>]*-->\s*```json\n([\s\S]*?)```/.exec(doc)?.[1];
    const policy = JSON.parse(block ?? '{}') as { Statement: { Action: string[] }[] };
    const prefixes = new Set(policy.Statement.flatMap((s) => s.Action).map((action) => action.split(':')[0]));
    // CloudFormation's namespace, as IAM names the service (where the two differ).
    const IAM_PREFIX: Record<string, string> = { StepFunctions: 'states' };
    const namespaces = new Set(resources().map(([, r]) => String(r.Type).split('::')[1] ?? ''));
    const missing = [...namespaces].filter((ns) => !prefixes.has(IAM_PREFIX[ns] ?? ns.toLowerCase()));
    expect(namespaces.size).toBeGreaterThan(5);
    expect(missing).toEqual([]);
    expect(prefixes.has('cloudformation')).toBe(true);
  });

  it('gives every function a role of its own', () => {
    const functions = resources().filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    // Every Task's, and the schedules' own: the relay, the sweeper and the reconciler.
    const names = functions.map(([, f]) => String(f.Properties.FunctionName).replace(/^pitwall-[a-z]+-ci-/, ''));
    expect(names.sort()).toEqual(
      [...Object.values(TASKS).map((task) => task.function), 'relay', 'sweep', 'reconcile'].sort(),
    );
    const roles = functions.map(([, f]) => f.Properties.Role['Fn::GetAtt']?.[0]);
    expect(new Set(roles).size).toBe(functions.length);
  });

  // X-Ray and CloudWatch Logs' delivery APIs accept no resource but "*" (the state machine's logging role).
  const RESOURCELESS =
    /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

  it('grants no wildcard action, and a wildcard resource only where AWS offers nothing narrower', () => {
    for (const [name, role] of resources().filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      for (const policy of role.Properties.Policies ?? []) {
        for (const statement of policy.PolicyDocument.Statement) {
          const actions = [statement.Action].flat();
          for (const action of actions) expect(`${name}: ${action}`).not.toMatch(/\*/);
          if ([statement.Resource].flat().includes('*')) {
            for (const action of actions)
              expect(`${name}: ${action}`).toMatch(new RegExp(`: ${RESOURCELESS.source.slice(1)}`));
          }
        }
      }
    }
  });

  it('deploys the state machine file unchanged, with logging and tracing on', () => {
    const machine = templates.workflow?.Resources.EvaluateSubmissionStateMachine.Properties;
    // Every Task's Lambda ARN is the function's own, in the deploying account and region (CloudFormation's
    // Fn::Sub fills them in), as loadStateMachine()'s placeholders are.
    const placeholder = (fn: string) => `arn:aws:lambda:eu-west-1:000000000000:function:pitwall-${fn}`;
    const definition = JSON.parse(
      String(machine.DefinitionString['Fn::Sub']).replace(
        /arn:aws:lambda:\$\{AWS::Region\}:\$\{AWS::AccountId\}:function:pitwall-[a-z]+-ci-(\w+)/g,
        (_, fn: string) => placeholder(fn),
      ),
    );
    // The plugin's validation adds the default QueryLanguage to every state; the file itself has none.
    const withoutDefaults = JSON.parse(JSON.stringify(definition), (key, value) =>
      key === 'QueryLanguage' ? undefined : value,
    );
    expect(withoutDefaults).toEqual(loadStateMachine());
    expect(machine.LoggingConfiguration.Level).toBe('ERROR');
    expect(machine.TracingConfiguration.Enabled).toBe(true);
  });

  it('wires each Task of the task table to the function it names, with nothing per Task in compose', () => {
    const definition = String(
      templates.workflow?.Resources.EvaluateSubmissionStateMachine.Properties.DefinitionString['Fn::Sub'],
    );
    const named = [...definition.matchAll(/function:(pitwall-[\w-]+)"/g)].map((match) => match[1]);
    const packaged = Object.values(TASKS).map((task) => {
      const [, fn] = Object.entries(templates[task.service]?.Resources as Cfn).find(
        ([id, r]) =>
          r.Type === 'AWS::Lambda::Function' && id.toLowerCase() === `${task.function}LambdaFunction`.toLowerCase(),
      ) ?? [undefined, undefined];
      return fn?.Properties.FunctionName;
    });
    expect(new Set(named)).toEqual(new Set(packaged));
    expect(packaged).not.toContain(undefined);
    const compose = parse(readFileSync(join(root, 'serverless-compose.yml'), 'utf8')) as Cfn;
    expect(Object.keys(compose.services.workflow.params)).toEqual(['queueArn', 'alarmTopicArn']);
    expect(compose.services.workflow.dependsOn).toEqual(['ingest', 'launcher', 'publisher', 'cleanup']);
  });

  it('keeps every stateful resource in foundation, and each other service only its functions and their roles', () => {
    const STATEFUL = /^AWS::(DynamoDB::Table|S3::Bucket|SQS::Queue|SNS::Topic|SecretsManager::Secret|ECR::Repository)$/;
    // Serverless's own bucket for each stack's code is not Pitwall's data.
    const heldBy = (service: string) =>
      Object.entries(templates[service]?.Resources as Cfn)
        .filter(([id, r]) => STATEFUL.test(String(r.Type)) && id !== 'ServerlessDeploymentBucket')
        .map(([id]) => id);
    expect(heldBy('foundation').sort()).toEqual(
      [
        'ArtifactsBucket',
        'AlarmTopic',
        'EvalAiTokenSecret',
        'EvaluatorRepository',
        'IdempotencyTable',
        'LogcopyRepository',
        'SimulatorRepository',
        'SubmissionsDeadLetterQueue',
        'SubmissionsQueue',
        'SubmissionsTable',
      ].sort(),
    );
    for (const service of SERVICES.filter((s) => s !== 'foundation'))
      expect({ [service]: heldBy(service) }).toEqual({ [service]: [] });
  });

  it('starts one execution per message: the Pipe reads the queue in batches of one and targets the state machine', () => {
    const pipe = templates.workflow?.Resources.SubmissionsPipe.Properties;
    expect(pipe.Source).toBe(offlineParam('queueArn'));
    expect(pipe.SourceParameters.SqsQueueParameters.BatchSize).toBe(1);
    expect(pipe.Target).toEqual({ Ref: 'EvaluateSubmissionStateMachine' });
  });

  it('gives the queue a dead-letter queue, an alarm on it, and a visibility timeout above the Pipe’s', () => {
    const r = templates.foundation?.Resources;
    expect(r.SubmissionsQueue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['SubmissionsDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(r.SubmissionsQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(300);
    expect(r.DeadLetterAlarm.Properties.Threshold).toBe(0);
  });

  it('keeps the tables recoverable and the bucket private and encrypted', () => {
    const r = templates.foundation?.Resources;
    for (const table of [r.SubmissionsTable, r.IdempotencyTable]) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
    }
    expect(r.ArtifactsBucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(r.ArtifactsBucket.Properties.BucketEncryption).toBeDefined();
  });

  it('deploys the tables with exactly the keys and the index the adapters create for local runs and tests', () => {
    const r = templates.foundation?.Resources;
    const byName = (definitions: Cfn[]) =>
      [...definitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
    for (const [deployed, local] of [
      [r.SubmissionsTable.Properties, submissionsTable('t')],
      [r.IdempotencyTable.Properties, idempotencyTable('t')],
    ] as const) {
      expect(byName(deployed.AttributeDefinitions)).toEqual(byName(local.AttributeDefinitions as Cfn[]));
      expect(deployed.KeySchema).toEqual(local.KeySchema);
      expect(deployed.GlobalSecondaryIndexes ?? []).toEqual(local.GlobalSecondaryIndexes ?? []);
    }
  });

  it('keeps function names within 64 characters for a 20-character stage name', () => {
    const longest = 'x'.repeat(20);
    for (const [service, template] of Object.entries(templates)) {
      for (const [, fn] of Object.entries(template.Resources as Cfn).filter(
        ([, r]) => r.Type === 'AWS::Lambda::Function',
      )) {
        const name = String(fn.Properties.FunctionName).replace(`-${STAGE}-`, `-${longest}-`);
        expect(`${service}: ${name} (${name.length})`).toMatch(/\(([1-5]?[0-9]|6[0-4])\)$/);
      }
    }
  });

  it('leaves the relay unscheduled on a stage whose challenge has use_host_sqs, and lets it send only to the queue', () => {
    const r = templates.ingest?.Resources;
    expect(r.RelayEventsRuleSchedule1.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'DISABLED',
    });
    const queueArn = r.RelayLambdaFunction.Properties.Environment.Variables.PITWALL_QUEUE_ARN;
    expect(queueArn).toBe(offlineParam('queueArn'));
    const send = r.RelayRole.Properties.Policies[0].PolicyDocument.Statement.find((s: Cfn) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    expect(send.Resource).toEqual(queueArn);
  });

  it('draws the stage’s operations dashboard, linking every alarm the stacks define', () => {
    const dashboard = templates.workflow?.Resources.OperationsDashboard;
    expect(dashboard.Type).toBe('AWS::CloudWatch::Dashboard');
    // CloudFormation's part of the body: the region, the account and the alarms' ARNs.
    const [separator, parts] = dashboard.Properties.DashboardBody['Fn::Join'];
    expect(separator).toBe('');
    const resolved = parts
      .map((part: string | Cfn) => {
        if (typeof part === 'string') return part;
        if (part.Ref === 'AWS::Region') return 'us-west-2';
        if (part.Ref === 'AWS::AccountId') return '123456789012';
        const [resource, attribute] = part['Fn::GetAtt'];
        expect(attribute).toBe('Arn');
        expect(templates.workflow?.Resources[resource].Type).toBe('AWS::CloudWatch::Alarm');
        return `arn:aws:cloudwatch:us-west-2:123456789012:alarm:${resource}`;
      })
      .join('');
    const body = JSON.parse(resolved);
    const linked: string[] = body.widgets.find((w: Cfn) => w.type === 'alarm').properties.alarms;
    const defined = Object.entries(templates).flatMap(([service, template]) =>
      Object.entries(template.Resources as Cfn)
        .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
        .map(([id, r]) => (service === 'workflow' ? id : r.Properties.AlarmName)),
    );
    expect(linked.map((arn) => arn.split(':alarm:')[1]).sort()).toEqual([...defined].sort());
    const shown = JSON.stringify(body.widgets.filter((w: Cfn) => w.type === 'metric'));
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ApproximateNumberOfMessagesVisible',
      'SubmissionsEnded',
      'SubmissionsActive',
      'EvalAiRequests',
      'EvalAiThrottled',
      'WorkersRunning',
    ]) {
      expect(shown).toContain(metric);
    }
    expect(shown).toContain('pitwall-evaluate-submission-ci');
    expect(shown).toContain('pitwall-ci-submissions-dlq');
  });

  it('schedules the sweeper and the reconciler, which may send only to the submissions queue', () => {
    const rules = Object.values(templates.cleanup?.Resources as Cfn).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((r) => r.Properties.ScheduleExpression).sort()).toEqual(['rate(10 minutes)', 'rate(15 minutes)']);
    const r = templates.cleanup?.Resources;
    const queueArn = templates.workflow?.Resources.SubmissionsPipe.Properties.Source;
    expect(r.ReconcileLambdaFunction.Properties.Environment.Variables.PITWALL_QUEUE_ARN).toBe(queueArn);
    const send = r.ReconcileRole.Properties.Policies[0].PolicyDocument.Statement.find((s: Cfn) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    expect(send.Resource).toBe(queueArn);
  });
});

describe('the packaged Lambda bundles', () => {
  const functions = () =>
    resources()
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, fn]) => {
        const zip = zips[String(fn.Properties.Code.S3Key).split('/').pop() ?? ''];
        if (!zip) throw new Error(`${id} has no packaged zip`);
        const roleId = fn.Properties.Role['Fn::GetAtt'][0];
        const role = resources().find(([rid]) => rid === roleId)?.[1];
        const actions = (role?.Properties.Policies ?? []).flatMap((p: Cfn) =>
          p.PolicyDocument.Statement.flatMap((st: Cfn) => [st.Action].flat()),
        ) as string[];
        const entry = zip.getEntries().find((e) => e.entryName.endsWith('.mjs'));
        return { id, zip, actions, code: entry?.getData().toString('utf8') ?? '', entryName: entry?.entryName ?? '' };
      });

  // A client is in a bundle only when its function wires the port, and the role grants only those services.
  const CLIENTS: [string, RegExp, RegExp][] = [
    ['S3', /\bGetObjectCommand\b/, /^s3:/],
    ['Secrets Manager', /\bGetSecretValueCommand\b/, /^secretsmanager:/],
    ['Step Functions', /\b(StartExecution|DescribeExecution)Command\b/, /^states:/],
    ['EKS', /\bDescribeClusterCommand\b/, /^eks:/],
    ['SQS', /\bSendMessageCommand\b/, /^sqs:/],
  ];

  it.each(CLIENTS)('bundles the %s client exactly where the role allows its service', (_, client, action) => {
    for (const { id, code, actions } of functions()) {
      expect(`${id}: ${client.test(code)}`).toBe(`${id}: ${actions.some((a) => action.test(a))}`);
    }
  });

  it('maps only Pitwall’s own sources, and leaves the X-Ray SDK out', () => {
    for (const { id, zip, code, entryName } of functions()) {
      const map = JSON.parse(zip.getEntry(`${entryName}.map`)?.getData().toString('utf8') ?? '{}');
      expect(map.sources.length).toBeGreaterThan(0);
      expect(`${id}: ${map.sources.filter((s: string) => s.includes('node_modules'))}`).toBe(`${id}: `);
      expect(`${id}: ${/aws-xray-sdk|cls-hooked/.test(code)}`).toBe(`${id}: false`);
    }
  });

  describe('a stack trace from a bundle', () => {
    let dir: string;
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('points at the TypeScript line in Pitwall’s code', () => {
      dir = mkdtempSync(join(tmpdir(), 'bundle-trace-'));
      const register = zips['register.zip'];
      register?.extractAllTo(dir, true);
      // No configuration at all: the handler throws from readLambdaConfig, at cold start.
      const script = `const { handler } = await import('./src/handlers/register.mjs');
        await handler({}, { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 })
          .catch((e) => console.log(e.stack));`;
      const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      });
      const frames = run.stdout.split('\n').filter((line) => line.trim().startsWith('at '));
      expect(run.stdout).toContain('ConfigurationError: environment variable PITWALL_TABLE');
      expect(frames[0]).toMatch(/packages\/lambda-kit\/src\/config\.ts:\d+:\d+/);
      // Library frames keep the bundle's own position rather than borrowing a neighbour's mapping.
      expect(frames.some((f) => /register\.mjs:\d+:\d+/.test(f))).toBe(true);
    });
  });
});
