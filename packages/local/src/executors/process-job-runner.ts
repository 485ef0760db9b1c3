import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterSettings } from '@pitwall/kube';
import { FolderJobRunner } from './folder-job-runner.js';
import { PortBook } from './port-book.js';
import { ProcessJob, terminate } from './process-job.js';

/** The local programs that stand in for the Job's images. */
export interface LocalPrograms {
  /** The bundled logcopy (the same code as the logcopy image). */
  readonly logcopy: string;
  /** The bundled CARLA stand-in (CARLA's server and the leaderboard evaluator). */
  readonly standin: string;
  /** A folder with the stand-ins for `nvidia-smi` and CARLA's server script, put first on PATH. */
  readonly standinBin: string;
  /** The stand-in for leaderboard/leaderboard_evaluator.py. */
  readonly evaluator: string;
  /** The pod's scripts (run_carla.sh, run_leaderboard.sh), as the evaluator image has them. */
  readonly scripts: string;
}

export interface ProcessJobRunnerOptions {
  readonly directory: string;
  readonly settings: ClusterSettings;
  readonly programs: LocalPrograms;
  /** The route file a Job's evaluator-files step would copy in, by its key. */
  readonly routeFile: (key: string) => Promise<string>;
  /** Extra environment for logcopy: the local servers' credentials. */
  readonly logcopyEnv: Readonly<Record<string, string>>;
  /** How fast the stand-in drives. */
  readonly msPerKm: number;
}

/**
 * Runs the Job manifest Pitwall would send to Kubernetes, on this machine: emptyDirs are folders, each
 * container a child process. The pod is the manifest's: init steps in order, sidecars (restartPolicy
 * Always) started again whenever they exit, restartPolicy Never for the agent, so a failed agent fails the
 * pod, and a new pod (new emptyDirs) starts while the Job's backoffLimit allows; podFailurePolicy's Ignore
 * of DisruptionTarget for `preempt`, the node loss; activeDeadlineSeconds and deletion honoured. A Job's
 * folder survives a restart of the runtime, as a cluster would keep running; processes a runtime killed
 * without stopping left behind are ended first, so no Job runs twice.
 */
export class ProcessJobRunner extends FolderJobRunner<ProcessJob> {
  /** Every container process the Jobs started and that has not exited, whichever Job it was. */
  private readonly running: Set<ChildProcess>;

  constructor(options: ProcessJobRunnerOptions) {
    const ports = PortBook.belowEphemeral();
    const running = new Set<ChildProcess>();
    super(options.directory, options.settings, (spec, manifest, directory, createdAt) => {
      return new ProcessJob(spec, manifest, directory, options, ports, running, createdAt);
    });
    this.running = running;
  }

  /**
   * The Jobs released, then any process one of them started and did not stop (a pod started while its Job
   * was being deleted): processes do not outlive the runtime, and a stray one kept a test run from exiting.
   */
  async shutdown(): Promise<void> {
    await super.shutdown();
    await Promise.all([...this.running].map((child) => terminate(child, 2000)));
  }

  async logTail(name: string, container: string, maxBytes: number): Promise<string> {
    try {
      return (await readFile(join(this.directory, name, 'logs', `${container}.log`), 'utf8')).slice(-maxBytes);
    } catch {
      return '';
    }
  }
}
