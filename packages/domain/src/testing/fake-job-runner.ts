import type { JobObservation, JobRunner, JobState, ListedJob, WorkerJobSpec } from '../control/ports.js';

interface FakeJob {
  spec: WorkerJobSpec;
  observation: JobObservation;
  createdAt: string;
}

/**
 * An in-memory JobRunner for tests: launches are recorded, and the test decides what each job
 * looks like (`setState`, `fail`), standing in for the cluster or the local executor.
 */
export class FakeJobRunner implements JobRunner {
  readonly jobs = new Map<string, FakeJob>();
  readonly launches: WorkerJobSpec[] = [];
  readonly deletions: string[] = [];
  readonly logs = new Map<string, string>();
  /** Called after every launch, e.g. to simulate an evaluator writing files. */
  onLaunch: ((spec: WorkerJobSpec) => void | Promise<void>) | undefined;
  /** Called before every observation and deletion: the moment the cluster is asked, e.g. to interleave a cancel. */
  onObserve: ((name: string) => void | Promise<void>) | undefined;
  onDelete: ((name: string) => void | Promise<void>) | undefined;
  /** Deletion in the foreground, as Kubernetes does it: a deleted Job stays until `endDeletions`. */
  foregroundDeletion = false;
  private readonly deleting = new Set<string>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async launch(spec: WorkerJobSpec): Promise<'created' | 'exists'> {
    this.launches.push(spec);
    if (this.jobs.has(spec.name)) return 'exists';
    const createdAt = this.now().toISOString();
    this.jobs.set(spec.name, { spec, observation: { name: spec.name, state: 'pending', containers: [] }, createdAt });
    await this.onLaunch?.(spec);
    return 'created';
  }

  async list(): Promise<readonly ListedJob[]> {
    return [...this.jobs.values()].map(({ spec, createdAt }) => ({
      name: spec.name,
      submissionPk: spec.submissionPk,
      attempt: spec.attempt,
      createdAt,
    }));
  }

  async observe(name: string): Promise<JobObservation> {
    await this.onObserve?.(name);
    return this.jobs.get(name)?.observation ?? { name, state: 'missing', containers: [] };
  }

  async delete(name: string): Promise<'deleted' | 'absent'> {
    await this.onDelete?.(name);
    this.deletions.push(name);
    if (this.foregroundDeletion && this.jobs.has(name)) {
      this.deleting.add(name);
      return 'deleted';
    }
    return this.jobs.delete(name) ? 'deleted' : 'absent';
  }

  /** The Jobs deleted in the foreground are gone: their pods ended. */
  endDeletions(): void {
    for (const name of this.deleting) this.jobs.delete(name);
    this.deleting.clear();
  }

  async logTail(name: string, container: string, maxBytes: number): Promise<string> {
    return (this.logs.get(`${name}/${container}`) ?? '').slice(-maxBytes);
  }

  setState(name: string, state: JobState, observation: Partial<JobObservation> = {}): void {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    job.observation = { ...job.observation, ...observation, name, state };
  }

  /** Every job of a submission, in worker order. */
  jobsOf(submissionPk: number): WorkerJobSpec[] {
    return [...this.jobs.values()]
      .map((j) => j.spec)
      .filter((s) => s.submissionPk === submissionPk)
      .sort((a, b) => a.worker - b.worker);
  }
}
