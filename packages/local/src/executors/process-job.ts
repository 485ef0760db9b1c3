import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ContainerExit,
  ContainerObservation,
  JobObservation,
  ListedJob,
  PodRun,
  WorkerJobSpec,
} from '@pitwall/domain';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import {
  checkpointInFolder,
  dueForPreemption,
  endPodRun,
  type FolderJob,
  keepNewestExits,
  makeEmptyDirs,
  startPodRun,
  terminationGraceSeconds,
} from './folder-job-runner.js';
import type { PortBook } from './port-book.js';
import type { ProcessJobRunnerOptions } from './process-job-runner.js';

interface ContainerRun {
  readonly spec: IContainer;
  /** A sidecar (an init container with restartPolicy Always): started again whenever it exits. */
  readonly sidecar: boolean;
  process?: ChildProcess;
  exited: boolean;
}

/** A container over the Job's pods, as the kubelet reports it: restarts and how it last ended. */
interface ContainerHistory {
  restarts: number;
  lastExitCode?: number;
  lastReason?: string;
  exits?: ContainerExit[];
}

/** One Job of the process executor: its pods' containers as child processes, its state in its folder. */
export class ProcessJob implements FolderJob {
  private state: JobObservation['state'] = 'pending';
  private reason: string | undefined;
  /** Failed pods, against the backoffLimit. */
  private failures = 0;
  private interruptions = 0;
  private readonly pods: PodRun[] = [];
  private runs = new Map<string, ContainerRun>();
  private readonly history = new Map<string, ContainerHistory>();
  private deadline: NodeJS.Timeout | undefined;
  private preemptWatch: NodeJS.Timeout | undefined;
  private stopping = false;
  /** The pod being replaced (ended, or its node lost): its containers' exits are not the pod's outcome. */
  private replacing = false;
  private ports: Record<string, string> = {};
  readonly listed: ListedJob;

  constructor(
    private readonly spec: WorkerJobSpec,
    private readonly manifest: IJob,
    private readonly directory: string,
    private readonly options: ProcessJobRunnerOptions,
    private readonly portBook: PortBook,
    private readonly running: Set<ChildProcess>,
    createdAt = new Date(),
  ) {
    const { name, submissionPk, attempt } = spec;
    this.listed = { name, submissionPk, attempt, createdAt: createdAt.toISOString() };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.directory, 'logs'), { recursive: true });
    writeFileSync(join(this.directory, 'spec.json'), JSON.stringify(this.spec));
    makeEmptyDirs(this.directory, this.manifest);
    const deadlineMs = (this.manifest.spec?.activeDeadlineSeconds ?? 86_400) * 1000;
    this.deadline = setTimeout(
      () => void this.fail('DeadlineExceeded', 'Job was active longer than specified deadline'),
      deadlineMs,
    );
    this.deadline.unref();
    this.watchForPreemption();
    await this.startPod();
  }

  /** One pod: its init steps in order (sidecars started and left running), then its containers. */
  private async startPod(): Promise<void> {
    const pod = this.manifest.spec?.template.spec;
    this.runs = new Map();
    // The pod's containers share a network namespace; Jobs on one machine need ports of their own.
    this.givePortsBack();
    this.ports = { CARLA_PORT: String(await this.portBook.take()), TM_PORT: String(await this.portBook.take()) };
    startPodRun(this.pods, this.manifest);
    for (const init of pod?.initContainers ?? []) {
      if (this.stopping) return;
      if (init.name === 'evaluator-files') await this.copyEvaluatorFiles();
      else if (init.restartPolicy === 'Always') this.startContainer(init, true);
      else if ((await this.runToEnd(init)) !== 0) return this.fail('InitFailed', `the ${init.name} step failed`);
    }
    if (this.stopping) return;
    this.state = 'running';
    for (const container of pod?.containers ?? []) this.startContainer(container, false);
  }

  /** The evaluator-files step: the image's scripts, the evaluator and the routes, into the evaluator volume. */
  private async copyEvaluatorFiles(): Promise<void> {
    const evaluator = this.volume('evaluator');
    mkdirSync(join(evaluator, 'data'), { recursive: true });
    mkdirSync(join(evaluator, 'leaderboard'), { recursive: true });
    cpSync(this.options.programs.scripts, join(evaluator, 'scripts'), { recursive: true });
    copyFileSync(this.options.programs.evaluator, join(evaluator, 'leaderboard', 'leaderboard_evaluator.py'));
    const routesFile = join(evaluator, 'data', this.spec.routesKey.split('/').at(-1) ?? 'routes.xml');
    if (!existsSync(routesFile)) writeFileSync(routesFile, await this.options.routeFile(this.spec.routesKey));
    for (const folder of ['logs', 'status']) mkdirSync(this.volume(folder), { recursive: true });
  }

  observation(): JobObservation {
    const containers: ContainerObservation[] = [...this.history.entries()].map(([name, seen]) => ({
      name,
      restarts: seen.restarts,
      ...(seen.lastExitCode === undefined ? {} : { lastExitCode: seen.lastExitCode }),
      ...(seen.lastReason ? { lastReason: seen.lastReason } : {}),
      ...(seen.exits ? { exits: [...seen.exits] } : {}),
    }));
    return {
      name: this.spec.name,
      state: this.state,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.interruptions > 0 ? { interruptions: this.interruptions } : {}),
      pods: [...this.pods],
      containers,
    };
  }

  /** A runtime that crashed may have left this Job's processes running: they are ended before it starts again. */
  async resume(): Promise<void> {
    await endLeftovers(this.directory);
    await this.start();
  }

  async remove(): Promise<void> {
    await this.stop();
    this.givePortsBack();
  }

  /** Processes do not outlive the runtime: the next start runs them again. */
  async release(): Promise<void> {
    await this.stop();
    this.givePortsBack();
  }

  /** The node is lost: the pod goes, with its emptyDirs, and a new one starts (not a failure). */
  async preempt(): Promise<boolean> {
    if (this.state !== 'running' || this.stopping || this.replacing) return false;
    this.replacing = true;
    await this.stopPod();
    this.interruptions += 1;
    makeEmptyDirs(this.directory, this.manifest);
    this.replacing = false;
    if (!this.stopping) await this.startPod();
    return true;
  }

  /** The `preempt-once` and `preempt-spot` tags: the node goes when the tag says (dueForPreemption). */
  private watchForPreemption(): void {
    this.preemptWatch = setInterval(() => {
      if (this.state !== 'running' || this.replacing) return;
      void dueForPreemption(this.spec, this.pods, this.interruptions, checkpointInFolder(this.directory)).then(
        (due) => due && this.preempt(),
      );
    }, 100);
    this.preemptWatch.unref();
  }

  private givePortsBack(): void {
    for (const port of Object.values(this.ports)) this.portBook.give(Number(port));
    this.ports = {};
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    await this.stopPod();
  }

  private clearTimers(): void {
    if (this.deadline) clearTimeout(this.deadline);
    if (this.preemptWatch) clearInterval(this.preemptWatch);
  }

  /**
   * The kubelet's end of a pod: its containers first, all at once (those already exited are left as they
   * are), then the sidecars, last started first, so that logcopy, started before the simulator, flushes last.
   */
  private async stopPod(): Promise<void> {
    const runs = [...this.runs.values()];
    const graceMs = terminationGraceSeconds(this.manifest) * 1000;
    endPodRun(this.pods);
    await Promise.all(runs.filter((r) => !r.sidecar).map((r) => terminate(r.process, graceMs)));
    for (const run of runs.filter((r) => r.sidecar).reverse()) {
      run.exited = true; // not started again
      await terminate(run.process, graceMs);
    }
  }

  private startContainer(spec: IContainer, sidecar: boolean): void {
    const run: ContainerRun = { spec, sidecar, exited: false };
    this.runs.set(spec.name, run);
    if (!this.history.has(spec.name)) this.history.set(spec.name, { restarts: 0 });
    this.spawnContainer(run);
  }

  private spawnContainer(run: ContainerRun): void {
    const child = this.spawn(run.spec);
    const seen = this.history.get(run.spec.name) as ContainerHistory;
    run.process = child;
    run.exited = false;
    child.on('exit', (code, signal) => {
      const wasStopped = run.exited; // a sidecar the pod's end stopped
      run.exited = true;
      seen.lastExitCode = code ?? (signal ? 137 : 1);
      seen.lastReason = code === 0 ? 'Completed' : signal ? 'Killed' : 'Error';
      seen.exits = keepNewestExits(seen.exits, { exitCode: seen.lastExitCode, at: new Date().toISOString() });
      if (this.stopping || this.replacing || this.state !== 'running') return;
      if (run.sidecar) {
        if (wasStopped) return;
        // A sidecar is started again whatever its exit; it never fails the pod.
        seen.restarts += 1;
        setTimeout(() => {
          // Only into its own pod: one that ended meanwhile (a crash, a lost node) has new runs of its own.
          const current = this.runs.get(run.spec.name) === run;
          if (current && !this.stopping && !this.replacing && this.state === 'running') this.spawnContainer(run);
        }, 200).unref();
        return;
      }
      const main = [...this.runs.values()].filter((r) => !r.sidecar);
      if (!main.every((r) => r.exited)) return;
      void this.podEnded(main.every((r) => this.history.get(r.spec.name)?.lastExitCode === 0));
    });
  }

  /** The pod's containers have all exited: success, or (restartPolicy Never) a failed pod and a new one. */
  private async podEnded(succeeded: boolean): Promise<void> {
    this.replacing = true;
    await this.stopPod();
    this.replacing = false;
    if (this.stopping || this.state !== 'running') return;
    if (succeeded) return this.succeed();
    this.failures += 1;
    if (this.failures > (this.manifest.spec?.backoffLimit ?? 6)) {
      return this.fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    makeEmptyDirs(this.directory, this.manifest); // a new pod: its emptyDirs are new
    await this.startPod();
  }

  private succeed(): void {
    this.state = 'succeeded';
    this.clearTimers();
  }

  private async fail(reason: string, message: string): Promise<void> {
    if (this.state === 'succeeded' || this.state === 'failed') return;
    this.state = 'failed';
    this.reason = `${reason}: ${message}`;
    this.clearTimers();
    this.stopping = true;
    await this.stopPod();
  }

  private runToEnd(container: IContainer): Promise<number> {
    const child = this.spawn(container);
    return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  }

  /**
   * The container's own command, with the manifest's env and mounts: logcopy's bundle for logcopy's image;
   * for the simulator and the agent, the pod's real scripts, with stand-ins for CARLA, nvidia-smi and the
   * evaluator, and the agent image's ENV (TEAM_AGENT; its tag picks the stand-in's behaviour).
   */
  private spawn(container: IContainer): ChildProcess {
    const { programs, settings } = this.options;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    for (const variable of container.env ?? []) env[variable.name] = this.localPath(container, variable.value ?? '');
    let command: string[];
    if (container.image === settings.images.logcopy) {
      command = [process.execPath, programs.logcopy, ...(container.args ?? [])];
      Object.assign(env, this.options.logcopyEnv);
    } else {
      command = (container.command ?? []).map((part) => this.localPath(container, part));
      Object.assign(env, this.ports, {
        // The Job's GPU, named by the executor to the simulator and the agent alike (the stand-in's one).
        PITWALL_GPU_UUID: STANDIN_GPU_UUID,
        PATH: `${programs.standinBin}:${env.PATH}`,
        CARLA_SERVER: join(programs.standinBin, 'carla-server'),
        PITWALL_NODE: process.execPath,
        PITWALL_STANDIN: programs.standin,
        ...standinPace(this.options.msPerKm),
      });
      if (container.image !== settings.images.simulator) {
        Object.assign(env, {
          TEAM_AGENT: '/workspace/team_code/agent.py',
          AGENT_BEHAVIOUR: container.image?.split(':').at(-1) ?? 'good',
          AGENT_IMAGE: container.image ?? '',
        });
      }
    }
    const [program, ...args] = command;
    if (!program) throw new RangeError(`container ${container.name} has no command`);
    // Marked with its Job's folder and in a process group of its own, so that a runtime started after a
    // crash finds what the last one left running (recorded by pid) and ends it, with everything it started.
    // Its output goes to its log file itself, not through the runtime: a runtime killed with -9 leaves it
    // running, as a cluster's pods outlive their control plane, and logcopy uploads what it does meanwhile.
    env[JOB_MARK] = this.directory;
    const log = openSync(join(this.directory, 'logs', `${container.name}.log`), 'a');
    let child: ChildProcess;
    try {
      child = spawn(program, args, { env, stdio: ['ignore', log, log], detached: true });
    } finally {
      closeSync(log);
    }
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    if (child.pid) {
      mkdirSync(join(this.directory, 'pids'), { recursive: true });
      writeFileSync(join(this.directory, 'pids', container.name), String(child.pid));
    }
    return child;
  }

  /** Paths inside the pod become the volume folders they are mounted from. */
  private localPath(container: IContainer, value: string): string {
    const mounts = [...(container.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
    const mount = mounts.find((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`));
    return mount ? this.volume(mount.name) + value.slice(mount.mountPath.length) : value;
  }

  private volume(name: string): string {
    return join(this.directory, 'volumes', name);
  }
}

/** The one GPU the stand-in nvidia-smi shows (standin/bin/nvidia-smi). */
const STANDIN_GPU_UUID = 'GPU-00000000-0000-0000-0000-pitwalllocal';

/** How fast the stand-ins drive; local time runs fast, so the scripts look often and give a stopped process little grace. */
export function standinPace(msPerKm: number): Record<string, string> {
  return { PITWALL_STANDIN_MS_PER_KM: String(msPerKm), POLL_SECONDS: '0.1', STOP_GRACE_SECONDS: '1' };
}

/** The kubelet's stop: SIGTERM, and SIGKILL after the pod's grace. */
export async function terminate(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const JOB_MARK = 'PITWALL_LOCAL_JOB';

/** Whether `pid` is a process group this Job's folder started (read from /proc: Linux; elsewhere, no). */
async function startedBy(pid: number, directory: string): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    return environ.split('\0').includes(`${JOB_MARK}=${directory}`);
  } catch {
    return false; // gone, or not ours to read
  }
}

/** Ends the process groups a Job's folder records that are still running: TERM, then KILL after 5 s. */
export async function endLeftovers(directory: string): Promise<number> {
  const pids: number[] = [];
  for (const file of await readdir(join(directory, 'pids')).catch(() => [] as string[])) {
    const pid = Number(await readFile(join(directory, 'pids', file), 'utf8'));
    if (Number.isInteger(pid) && pid > 1 && (await startedBy(pid, directory))) pids.push(pid);
  }
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  for (let waited = 0; waited < 5000 && (await Promise.all(pids.map((p) => startedBy(p, directory)))).some(Boolean); ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    waited += 100;
  }
  for (const pid of pids) signal(pid, 'SIGKILL');
  return pids.length;
}
