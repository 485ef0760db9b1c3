import {
  type ArtifactStore,
  artifactKeys,
  type Clock,
  expandRoutesSubset,
  INFRACTION_KEYS,
  type JobObservation,
  type JobRunner,
  type ListedJob,
  type PodRun,
  parseRouteFile,
  type RouteInfo,
  systemClock,
  type WorkerJobSpec,
} from '@pitwall/domain';

export interface InstantJobRunnerOptions {
  /** How long each Job runs, in the clock's seconds, before its checkpoint is written (0: at launch). */
  readonly evaluationSeconds?: number;
  readonly clock?: Clock;
  /** The instance type its pods report, for the cost ('instant' unless given). */
  readonly instanceType?: string;
}

/**
 * Jobs with no processes at all: each runs for `evaluationSeconds` (none by default), then, when it is next
 * observed, the worker's complete checkpoint is written and the Job has succeeded. For measuring the control plane alone
 * (`pnpm bench:burst`, `pnpm bench:evalai-load`).
 */
export class InstantJobRunner implements JobRunner {
  /** Launch times by submission, for the benchmark. */
  readonly launchedAt = new Map<number, number[]>();
  private readonly jobs = new Map<string, JobObservation>();
  private readonly running = new Map<
    string,
    { spec: WorkerJobSpec; startedAt: string; until: number; completed?: Promise<void> }
  >();
  private readonly listed = new Map<string, ListedJob>();
  private readonly routes = new Map<string, readonly RouteInfo[]>();
  private readonly clock: Clock;

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly options: InstantJobRunnerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  async launch(spec: WorkerJobSpec): Promise<'created' | 'exists'> {
    if (this.jobs.has(spec.name) || this.running.has(spec.name)) return 'exists';
    const { name, submissionPk, attempt } = spec;
    this.listed.set(name, { name, submissionPk, attempt, createdAt: this.clock.now().toISOString() });
    this.launchedAt.set(spec.submissionPk, [...(this.launchedAt.get(spec.submissionPk) ?? []), Date.now()]);
    const seconds = this.options.evaluationSeconds ?? 0;
    const startedAt = this.clock.now().toISOString();
    this.running.set(name, { spec, startedAt, until: this.clock.now().getTime() + seconds * 1000 });
    return 'created';
  }

  /** Its one pod, on demand: from launch to the end of its evaluation time (or now, before). */
  private pod(startedAt: string, endedAt?: string): PodRun {
    const instanceType = this.options.instanceType ?? 'instant';
    return { startedAt, ...(endedAt ? { endedAt } : {}), instanceType, capacityType: 'on-demand' };
  }

  private async complete(spec: WorkerJobSpec, startedAt: string, until: number): Promise<void> {
    const routes = expandRoutesSubset(await this.routeFile(spec.routesKey), spec.routesSubset);
    await this.artifacts.put(
      artifactKeys.checkpoint(spec.submissionPk, spec.worker),
      JSON.stringify(perfectCheckpoint(routes)),
    );
    const pods = [this.pod(startedAt, new Date(until).toISOString())];
    this.jobs.set(spec.name, { name: spec.name, state: 'succeeded', pods, containers: [] });
  }

  async list(): Promise<readonly ListedJob[]> {
    return [...this.listed.values()];
  }

  async observe(name: string): Promise<JobObservation> {
    const running = this.running.get(name);
    if (running && this.clock.now().getTime() >= running.until) {
      // Observed twice at once, it completes once, and neither sees it missing meanwhile.
      running.completed ??= this.complete(running.spec, running.startedAt, running.until).then(() => {
        if (!this.running.delete(name)) this.jobs.delete(name); // deleted while it completed: stays deleted
      });
      await running.completed;
    } else if (running) {
      return { name, state: 'running', pods: [this.pod(running.startedAt)], containers: [] };
    }
    return this.jobs.get(name) ?? { name, state: 'missing', containers: [] };
  }

  async delete(name: string): Promise<'deleted' | 'absent'> {
    this.listed.delete(name);
    const wasRunning = this.running.delete(name);
    return this.jobs.delete(name) || wasRunning ? 'deleted' : 'absent';
  }

  async logTail(): Promise<string> {
    return '';
  }

  private async routeFile(key: string): Promise<readonly RouteInfo[]> {
    let routes = this.routes.get(key);
    if (!routes) {
      routes = parseRouteFile((await this.artifacts.get(key)) ?? '');
      this.routes.set(key, routes);
    }
    return routes;
  }
}

/** A worker's finished checkpoint, as CARLA's evaluator writes it, with every route driven perfectly. */
export function perfectCheckpoint(routes: readonly Pick<RouteInfo, 'id' | 'length'>[]) {
  const records = routes.map((route, index) => ({
    index,
    route_id: `RouteScenario_${route.id}_rep0`,
    status: 'Perfect',
    num_infractions: 0,
    infractions: Object.fromEntries(INFRACTION_KEYS.map((k) => [k, []])),
    scores: { score_route: 100.0, score_penalty: 1.0, score_composed: 100.0 },
    meta: { route_length: route.length, duration_game: 1.0, duration_system: 1.0 },
  }));
  return {
    _checkpoint: { global_record: {}, progress: [records.length, records.length], records },
    entry_status: 'Finished',
    eligible: true,
    sensors: ['carla_camera'],
    values: [],
    labels: [],
  };
}
