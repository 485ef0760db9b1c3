import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EvalAiClient } from '@pitwall/adapters';
import { loadMachineStage, type MachineStageConfig } from '@pitwall/deploy/stage-file';
import { EvalAiUnavailableError, isTerminal } from '@pitwall/domain';
import {
  LOCAL_BUCKET,
  LOCAL_REGION,
  LOCAL_TABLE,
  LocalRuntime,
  type LocalRuntimeOptions,
  type ServerIntake,
} from '@pitwall/local';
import { explained } from '../explained.js';
import { type CliIo, CommandFailedError, UsageError } from '../io.js';
import { expandHome, hostToken, recordServing, serveStateDir } from './machine-state.js';

/** How often `serve` looks at its submissions to say what changed. */
const WATCH_MS = 2000;

/** What `serve` runs: the stage turned into the runtime's options. */
export function serveOptions(stageName: string, stage: MachineStageConfig, token: string): LocalRuntimeOptions {
  const { evalai, machine } = stage;
  const intake: ServerIntake = evalai.queueArn
    ? { hostQueueArn: evalai.queueArn }
    : { queueName: evalai.queueName ?? '', everyMs: evalai.relaySeconds * 1000 };
  return {
    stateDir: serveStateDir(stageName, stage),
    executor: machine.executor,
    ...(machine.images ? { images: machine.images } : {}),
    // A cluster's GPUs are its device plugin's to give.
    ...((machine.executor === 'podman' || machine.executor === 'docker') && machine.gpus !== 'none'
      ? { gpus: machine.gpus }
      : {}),
    ...(machine.cluster ? { cluster: { ...machine.cluster, kubeconfig: expandHome(machine.cluster.kubeconfig) } } : {}),
    routeFiles: Object.fromEntries(Object.entries(machine.routeFiles).map(([key, path]) => [key, expandHome(path)])),
    ...(machine.publicStatus ? { publicStatus: machine.publicStatus } : {}),
    server: {
      url: evalai.apiServer,
      token,
      requestsPerMinute: evalai.requestsPerMinute,
      challenge: stage.challenge,
      intake,
    },
  };
}

/** Says, one line each, when a submission is taken in and when it ends, and why. */
function watch(runtime: LocalRuntime, io: CliIo): () => void {
  const seen = new Map<number, string>();
  let busy = false;
  const look = async () => {
    if (busy) return;
    busy = true;
    try {
      const active = await runtime.plane.store.listActive();
      const current = new Set<number>();
      for (const record of active) {
        current.add(record.submissionPk);
        if (seen.get(record.submissionPk) === record.status) continue;
        seen.set(record.submissionPk, record.status);
        if (!isTerminal(record.status))
          io.out(`submission ${record.submissionPk} (${record.teamName}): ${record.status}`);
      }
      for (const pk of [...seen.keys()].filter((pk) => !current.has(pk))) {
        seen.delete(pk);
        const record = await runtime.plane.store.get(pk);
        if (!record) continue;
        const reason = record.outcome?.reason ? `: ${record.outcome.reason.split('\n')[0]}` : '';
        io.out(`submission ${pk} (${record.teamName}): ${record.status}${reason}`);
      }
    } catch {
      // the stores are the runtime's own: a look that fails is tried again at the next tick
    } finally {
      busy = false;
    }
  };
  let intakeReported = false;
  const intake = () => {
    const failing = runtime.intakeFailing();
    if (failing && !intakeReported && Date.now() - failing.since.getTime() >= INTAKE_FAILING_MS) {
      intakeReported = true;
      const since = failing.since.toISOString().slice(11, 19);
      io.out(`intake: no submission could be read since ${since} UTC (${failing.error.split('\n')[0]}); still trying`);
    } else if (!failing && intakeReported) {
      intakeReported = false;
      io.out('intake: reading submissions again');
    }
  };
  const timer = setInterval(() => {
    intake();
    void look();
  }, WATCH_MS);
  return () => clearInterval(timer);
}

/** How long the intake may fail before serve says so: longer than a blip, short enough to be seen. */
const INTAKE_FAILING_MS = 10_000;

/** What one request to EvalAI said of the stage's server and token. */
export interface EvalAiCheck {
  /** The token is a host's of the challenge. */
  readonly ok: boolean;
  /** EvalAI answered at all (a refused token is an answer). */
  readonly answered: boolean;
  readonly line: string;
}

/**
 * One request, as a host's list of the challenge's submissions (host only): whether EvalAI answers, and
 * whether the token is a host's of the challenge. Nothing is retried: the answer is for a person.
 */
export async function checkEvalAi(stage: MachineStageConfig, token: string): Promise<EvalAiCheck> {
  const { apiServer } = stage.evalai;
  const { challengePk } = stage.challenge;
  const client = new EvalAiClient({ baseUrl: apiServer, token, retries: 0, timeoutMs: 10_000, challengePk });
  try {
    await client.listSubmissions(challengePk, 'submitted', { submittedAfter: new Date().toISOString() });
    return {
      ok: true,
      answered: true,
      line: `EvalAI at ${apiServer} answered: the token is a host's of challenge ${challengePk}`,
    };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    if (error instanceof EvalAiUnavailableError) {
      return { ok: false, answered: false, line: `EvalAI at ${apiServer} did not answer: ${message}` };
    }
    return { ok: false, answered: true, line: message };
  }
}

/** `serve`: the stage's challenge served from this machine until Ctrl-C. */
export async function serveCommand(io: CliIo, options: { stage: string; check?: boolean }): Promise<void> {
  const stage = await explained(() => loadMachineStage(options.stage));
  const token = hostToken(stage, process.env, io);
  const check = await checkEvalAi(stage, token);
  if (options.check) {
    io.out(check.line);
    if (!check.ok) throw new CommandFailedError('the check failed');
    return;
  }
  // A token EvalAI refuses will not work later either; an EvalAI away now may be back soon.
  if (check.answered && !check.ok) throw new UsageError(check.line);
  const runtimeOptions = serveOptions(options.stage, stage, token);
  const runtime = await explained(() => LocalRuntime.start(runtimeOptions));
  const from = stage.evalai.queueArn
    ? `the host's queue ${stage.evalai.queueArn}`
    : `EvalAI's queue ${stage.evalai.queueName} (through its REST proxy)`;
  io.out(`Pitwall serves challenge ${stage.challenge.challengePk} of ${stage.evalai.apiServer} from this machine.`);
  io.out(`  ${check.line}${check.ok ? '' : '; still trying'}`);
  io.out(`  submissions from ${from}`);
  const { cluster } = stage.machine;
  const jobs = cluster
    ? `on the cluster of ${cluster.kubeconfig}${cluster.context ? ` (context ${cluster.context})` : ''}, namespace ${cluster.layout.namespace}, reaching the stores at ${cluster.storesAddress}`
    : `as ${stage.machine.executor}`;
  io.out(`  Jobs run ${jobs}; state in ${resolve(runtimeOptions.stateDir)}`);
  if (cluster) {
    // The stores admit only requests signed with this machine's key: logcopy gets it from this Secret.
    io.out(
      `  logcopy's key: kubectl -n ${cluster.layout.namespace} create secret generic ${cluster.logcopySecret} --from-env-file=${resolve(runtime.storesKeyFile)}`,
    );
    io.out(
      existsSync(runtime.networkPolicyFile)
        ? `  the worker pods' NetworkPolicy: kubectl apply -f ${resolve(runtime.networkPolicyFile)}`
        : `  no NetworkPolicy written: storesAddress ${cluster.storesAddress} is not an IP address`,
    );
  }
  io.out(`  dashboard ${runtime.endpoints.dashboard}`);
  if (runtime.endpoints.publicStatus) io.out(`  public status page ${runtime.endpoints.publicStatus}`);
  io.out('Ctrl-C stops it; a restart on the same state folder carries on.');
  const { dynamodb, s3, sqs, queueUrl } = runtime.endpoints;
  const forget = recordServing(runtimeOptions.stateDir, {
    ...{ dynamodb, s3, sqs, queueUrl },
    ...{ region: LOCAL_REGION, table: LOCAL_TABLE, bucket: LOCAL_BUCKET },
  });
  const stopWatching = watch(runtime, io);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  io.out('Stopping…');
  stopWatching();
  forget();
  await runtime.stop();
}
