#!/usr/bin/env node
// pnpm stage --stage <name>: validate stages/<name>.yml and write what the Serverless files read.
// pnpm package [--stage ci]: that, then `osls package` for every service, offline.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionArnParam, TASKS } from '@pitwall/workflow';
import { operationsDashboard } from './operations-dashboard.js';
import { StageConfigError, serverlessVariables } from './stage-config.js';
import { loadStage } from './stage-file.js';
import { STAGE_REFERENCE_FILE, stageReference } from './stage-reference.js';
import { taskDeployment } from './task-functions.js';
import { templateProblems } from './template-schema.js';

const root = new URL('../../../', import.meta.url).pathname;
export const SERVICES = ['foundation', 'ingest', 'launcher', 'publisher', 'cleanup', 'workflow'] as const;

/**
 * Every Task's function ARN, as the ASL's `${param:<function>FunctionArn}` names it: the function's own name
 * (Serverless names it `pitwall-<service>-<stage>-<function>`), in the account and region CloudFormation
 * deploys to (serverless-step-functions turns `#{AWS::…}` into Fn::Sub). The workflow service reads them
 * from the stage's file as its params, so compose carries nothing per Task.
 */
export function taskFunctionArns(stage: string): Record<string, string> {
  return Object.fromEntries(
    Object.values(TASKS).map((task) => [
      functionArnParam(task),
      `arn:aws:lambda:#{AWS::Region}:#{AWS::AccountId}:function:pitwall-${task.service}-${stage}-${task.function}`,
    ]),
  );
}

export function prepareStage(stage: string) {
  const config = loadStage(stage);
  const shared = serverlessVariables(stage, config);
  const variables = {
    ...shared,
    workflowParams: { default: taskFunctionArns(stage) },
    operationsDashboard: operationsDashboard(stage, config),
    tasks: taskDeployment(shared),
  };
  mkdirSync(join(root, 'services', '.stage'), { recursive: true });
  writeFileSync(join(root, 'services', '.stage', `${stage}.json`), JSON.stringify(variables, null, 2));
  return variables;
}

/** What compose would pass between services, as literals: offline there are no deployed stacks to read outputs from. */
export function offlineParams(stage: string, region: string): string[] {
  return [
    `queueArn=arn:aws:sqs:${region}:000000000000:pitwall-${stage}-submissions`,
    `alarmTopicArn=arn:aws:sns:${region}:000000000000:pitwall-${stage}-alarms`,
  ];
}

export function packageService(service: string, stage: string, region: string): number {
  const params = offlineParams(stage, region).flatMap((p) => ['--param', p]);
  const result = spawnSync(join(root, 'node_modules', '.bin', 'osls'), ['package', '--stage', stage, ...params], {
    cwd: join(root, 'services', service),
    stdio: 'inherit',
    env: {
      ...process.env,
      // Packaging never calls AWS; the SDK only wants something to sign with.
      AWS_ACCESS_KEY_ID: 'AKIAPACKAGEOFFLINE',
      AWS_SECRET_ACCESS_KEY: 'offline',
      AWS_REGION: region,
      SLS_TELEMETRY_DISABLED: '1',
    },
  });
  return result.status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command === 'reference') {
    writeFileSync(join(root, STAGE_REFERENCE_FILE), stageReference());
    console.log(`wrote ${STAGE_REFERENCE_FILE}`);
    return 0;
  }
  const stageAt = argv.indexOf('--stage');
  const stage = stageAt >= 0 ? (argv[stageAt + 1] ?? '') : 'ci';
  let variables: ReturnType<typeof prepareStage>;
  try {
    variables = prepareStage(stage);
  } catch (error) {
    if (!(error instanceof StageConfigError)) throw error;
    for (const problem of error.problems) console.error(problem);
    return 1;
  }
  console.log(`stages/${stage}.yml is valid; wrote services/.stage/${stage}.json`);
  if (command === 'stage') return 0;
  if (command !== 'package') {
    console.error('usage: deploy stage|package [--stage <name>] | reference');
    return 2;
  }
  for (const service of SERVICES) {
    console.log(`packaging services/${service} for stage ${stage}…`);
    const status = packageService(service, stage, variables.region);
    if (status !== 0) return status;
  }
  // What CloudFormation would refuse at deployment, found now: every template against the registry's schemas.
  let problems = 0;
  for (const service of SERVICES) {
    const file = join(root, 'services', service, '.serverless', 'cloudformation-template-update-stack.json');
    for (const problem of await templateProblems(JSON.parse(readFileSync(file, 'utf8')))) {
      console.error(`services/${service}: ${problem}`);
      problems++;
    }
  }
  if (problems > 0) return 1;
  console.log(`every template matches CloudFormation's resource schemas (${SERVICES.length} services)`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
