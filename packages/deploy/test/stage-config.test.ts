import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseClusterSettings } from '@pitwall/kube';
import { parseMachineStage, parseStageConfig, StageConfigError, serverlessVariables } from '../src/stage-config.js';

const ci = readFileSync(new URL('../../../stages/ci.yml', import.meta.url), 'utf8');

function problems(
  text: string,
  parse: (text: string, source: string) => unknown = parseStageConfig,
): readonly string[] {
  try {
    parse(text, 'stages/typo.yml');
  } catch (error) {
    if (error instanceof StageConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the stage file', () => {
  it('accepts stages/ci.yml', () => {
    expect(parseStageConfig(ci).challenge.challengePk).toBe(2010);
  });

  it('gives the region and the stores once, and hands them to the cluster settings the Lambdas parse', () => {
    const variables = serverlessVariables('ci', parseStageConfig(ci));
    const settings = parseClusterSettings(JSON.parse(variables.clusterSettingsJson));
    expect([settings.region, settings.bucket, settings.table]).toEqual([
      'us-west-2',
      'pitwall-artifacts-ci',
      'pitwall-submissions-ci',
    ]);
    expect([variables.bucket, variables.table]).toEqual([settings.bucket, settings.table]);
    const twice = ci.replace('    awsEndpoints:\n', '    bucket: elsewhere\n    awsEndpoints:\n');
    expect(problems(twice)).toEqual(['stages/typo.yml: cluster.settings: unknown key "bucket" (a typo?)']);
  });

  it('schedules the relay only for a challenge whose queue is EvalAI’s own, and refuses both ways in at once', () => {
    expect(serverlessVariables('ci', parseStageConfig(ci)).relayEnabled).toBe(false);
    const proxied = ci.replace(
      '  requestsPerMinute: 50\n',
      '  requestsPerMinute: 50\n  queueName: carla-leaderboard-queue\n',
    );
    const variables = serverlessVariables('ci', parseStageConfig(proxied));
    expect([variables.relayEnabled, variables.evalaiQueueName]).toEqual([true, 'carla-leaderboard-queue']);
    const both = proxied.replace('  queueName:', '  queueArn: arn:aws:sqs:us-west-2:123456789012:q\n  queueName:');
    expect(problems(both)).toEqual([
      "stages/typo.yml: evalai: queueArn (the host's own queue, use_host_sqs) and queueName (EvalAI's, read through its REST proxy) are two ways in: give one",
    ]);
  });

  it('refuses typos and dangling references, every one at once, one line each with its path (item 11)', () => {
    const typos = ci
      .replace('      requiresQualifier: SENSORS\n', '      requiresQualifer: SENSORS\n') // misspelt: the gate would be off
      .replace('      requiresQualifier: MAP\n', '      requiresQualifier: NOPE\n') // granted by no qualifier
      .replace("['^[0-9]{12}", "['[0-9]{12}") // unanchored
      .replace('  requestsPerMinute: 50\n', '  requestsPerMinute: 50\n  requestPerMinute: 60\n');
    expect(problems(typos)).toEqual([
      'stages/typo.yml: evalai: unknown key "requestPerMinute" (a typo?)',
      'stages/typo.yml: challenge.phases.4001: unknown key "requiresQualifer" (a typo?)',
      'stages/typo.yml: challenge.allowedImages.0: must be anchored: start it with ^',
      "stages/typo.yml: challenge.phases.4002.requiresQualifier: no configured phase's qualifier grants NOPE (grants: SENSORS, MAP)",
    ]);
  });

  it('refuses a qualifier that grants no configured track, or judges by no leaderboard label', () => {
    const wrong = ci.replace(
      'qualifier: { grants: MAP, thresholds: { Driving score: 50 } }',
      'qualifier: { grants: MAPS, thresholds: { Driving scor: 50 } }',
    );
    expect(problems(wrong)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^stages\/typo\.yml: challenge\.phases\.4004\.qualifier\.grants: names MAPS, the track of no configured phase/,
        ),
        expect.stringMatching(
          /^stages\/typo\.yml: challenge\.phases\.4004\.qualifier\.thresholds\.Driving scor: is not a leaderboard label/,
        ),
      ]),
    );
  });

  it('says what is wrong with YAML that does not parse, in one line', () => {
    const [only, ...rest] = problems('region: [unclosed');
    expect(rest).toEqual([]);
    expect(only).toMatch(/^stages\/typo\.yml: not valid YAML: /);
  });
});

describe("a machine's stage file (pitwall serve)", () => {
  const workstation = readFileSync(new URL('../../../stages/workstation.yml', import.meta.url), 'utf8');
  const machineProblems = (text: string) => problems(text, parseMachineStage);

  it('accepts stages/workstation.yml, with its defaults', () => {
    const stage = parseMachineStage(workstation);
    expect(stage.evalai.queueName).toBe('carla-leaderboard-20-2010-production-queue');
    expect(stage.machine.executor).toBe('podman');
    expect(stage.challenge.phases[4003]?.routesKey).toBe('routes/routes_qualifier.xml');
  });

  it('wants exactly one way in, the images podman runs, and no token in the file', () => {
    const both = workstation.replace('  # queueArn: ', '  queueArn: ');
    expect(machineProblems(both)).toEqual([expect.stringMatching(/^stages\/typo.yml: evalai: queueArn .* give one$/)]);
    const none = workstation.replace(/ {2}queueName: .*\n/, '');
    expect(machineProblems(none)).toEqual([
      expect.stringMatching(
        /^stages\/typo.yml: evalai: give queueArn .* or queueName .*no submission reaches this machine$/,
      ),
    ]);
    const noImages = workstation.replace(/ {2}images:\n( {4}.*\n){3}/, '');
    expect(machineProblems(noImages)).toEqual([
      'stages/typo.yml: machine: images: the podman executor runs the simulator, evaluator and logcopy images named here',
    ]);
    const token = workstation.replace('  tokenFile:', '  token: abc\n  tokenFile:');
    expect(machineProblems(token)).toEqual(['stages/typo.yml: evalai: unknown key "token" (a typo?)']);
  });

  it('refuses the processes executor (the stand-in, never the image) for an EvalAI not on this machine', () => {
    const processes = workstation.replace('  executor: podman\n', '  executor: processes\n');
    expect(machineProblems(processes)).toEqual([
      expect.stringMatching(
        /^stages\/typo.yml: machine: executor: processes runs the CARLA stand-in, never the participants' images: use podman, docker or kubernetes against https:\/\/eval.ai /,
      ),
    ]);
    for (const local of ['http://127.0.0.1:8000', 'http://localhost:9000', 'http://[::1]:8000']) {
      const emulated = processes.replace('apiServer: https://eval.ai', `apiServer: ${local}`);
      expect(parseMachineStage(emulated).machine.executor).toBe('processes');
    }
  });

  it('runs Jobs on a Kubernetes cluster only with the cluster named, and names it for that executor only', () => {
    const cluster = [
      '  cluster:',
      '    kubeconfig: ~/.kube/config',
      '    context: gpu-lab',
      '    storesAddress: 10.0.0.5',
      '    logcopySecret: pitwall-stores',
      '    layout: { namespace: evaluations, instanceTypes: { SENSORS_QUALIFIER: rtx-4090 } }',
      '',
    ].join('\n');
    const onCluster = workstation.replace('  executor: podman\n', `  executor: kubernetes\n${cluster}`);
    const stage = parseMachineStage(onCluster);
    expect(stage.machine.cluster).toMatchObject({
      context: 'gpu-lab',
      layout: { namespace: 'evaluations', backoffLimit: 4 },
    });
    expect(machineProblems(workstation.replace('  executor: podman\n', '  executor: kubernetes\n'))).toEqual([
      'stages/typo.yml: machine: cluster: the kubernetes executor runs the Jobs on the cluster named here',
    ]);
    expect(machineProblems(workstation.replace('  executor: podman\n', `  executor: podman\n${cluster}`))).toEqual([
      'stages/typo.yml: machine: cluster: is for the kubernetes executor only',
    ]);
    // The stores and the credentials are this machine's: the layout does not name them.
    const withBucket = onCluster.replace('namespace: evaluations,', 'namespace: evaluations, bucket: b,');
    expect(machineProblems(withBucket)).toEqual([
      'stages/typo.yml: machine.cluster.layout: unknown key "bucket" (a typo?)',
    ]);
  });
});
