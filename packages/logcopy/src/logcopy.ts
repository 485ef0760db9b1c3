import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openRegularFile } from '@pitwall/adapters';
import { type ArtifactStore, artifactKeys, DEFAULT_MAX_CHECKPOINT_BYTES, parseCheckpoint } from '@pitwall/domain';
import type { LogcopyConfig } from './config.js';

/** Uploads straight from disk, in bounded memory (S3ArtifactStore.putFile). */
export interface FileUploads {
  putFile(
    key: string,
    path: string,
    options: { readonly maxBytes: number; readonly contentType?: string },
  ): Promise<{ readonly bytes: number; readonly truncated: boolean }>;
}

/** Where the worker's progress and heartbeat go (one DynamoDB item per worker in production). */
export interface ProgressSink {
  record(progress: WorkerProgress): Promise<void>;
}

export interface WorkerProgress {
  readonly submissionPk: number;
  readonly worker: number;
  readonly attempt: number;
  readonly heartbeatAt: string;
  /** When the agent's log or the checkpoint last changed: the idle watchdog's clock. */
  readonly lastOutputAt?: string;
  readonly done?: number;
  readonly total?: number;
  readonly entryStatus?: string;
}

export interface SyncReport {
  readonly uploaded: readonly string[];
  /** Keys whose upload failed this pass (a file rewritten mid-upload, S3 away): tried again on the next. */
  readonly failed: readonly string[];
  /** Keys left for the next pass on purpose: a checkpoint caught mid-write. */
  readonly waiting: readonly string[];
  readonly cancelled: boolean;
  /** Both the simulator and the agent wrote their done file, and every file is up: logcopy may stop. */
  readonly finished: boolean;
}

/** How often the last flush after SIGTERM is tried when an upload fails, and the pause between: well inside the pod's 60 s grace. */
const LAST_FLUSH_PASSES = 5;
const LAST_FLUSH_PAUSE_MS = 1000;

/** The most of logcopy's own log kept (its newest lines). */
const JOURNAL_LINES = 500;

/**
 * One logcopy: uploads the files that changed since the last pass (checkpoint, status files, logs),
 * records progress and a heartbeat, and turns the control plane's cancel marker into the local cancel
 * file the simulator and agent scripts obey.
 */
export class Logcopy {
  private readonly seen = new Map<string, string>();
  private cancelRelayed = false;
  /** The checkpoint as last seen half-written (size and time): the same again is not a write in progress. */
  private tornCheckpoint: string | undefined;
  private lastOutputAt: string | undefined;
  /** logcopy's own log, kept in memory and uploaded beside the containers' (never through the shared folder). */
  private readonly journal: string[] = [];
  private journalUploaded = 0;
  private journalWritten = 0;
  private journalResumed = false;

  constructor(
    private readonly config: LogcopyConfig,
    private readonly artifacts: ArtifactStore & FileUploads,
    private readonly progress: ProgressSink,
    private readonly now: () => Date = () => new Date(),
    private readonly warn: (line: string) => void = (line) => console.error(line),
  ) {}

  async syncOnce(): Promise<SyncReport> {
    // Read the done files before uploading: whatever was written before them goes up in this same pass.
    const status = await listNames(this.config.statusDir);
    const w = this.config.worker;
    const finished = status.includes(`agent-${w}.done`) && status.includes(`simulator-${w}.done`);
    const uploaded: string[] = [];
    const failed: string[] = [];
    const waiting: string[] = [];
    for (const [path, key] of await this.files()) {
      const fingerprint = await fingerprintOf(path);
      if (fingerprint === undefined || this.seen.get(path) === fingerprint) continue;
      try {
        if (path === this.config.checkpointPath) {
          if (!(await this.uploadCheckpoint(key, fingerprint))) {
            waiting.push(key);
            continue;
          }
        } else {
          // Streamed, and capped: whatever the agent writes, logcopy's memory stays bounded.
          await this.artifacts.putFile(key, path, { maxBytes: this.config.maxUploadBytes });
        }
      } catch (error) {
        this.retryLater(`${key} not uploaded`, error);
        failed.push(key);
        continue;
      }
      this.seen.set(path, fingerprint);
      uploaded.push(key);
      if (key === `${this.config.prefix}checkpoint.json` || key.startsWith(`${this.config.prefix}logs/agent`)) {
        this.lastOutputAt = this.now().toISOString();
      }
    }
    const recorded = await this.progress.record(await this.currentProgress()).then(
      () => true,
      (error: unknown) => this.retryLater('progress not recorded', error),
    );
    const cancelled = await this.relayCancel().catch((error: unknown) =>
      this.retryLater('cancel marker not read', error),
    );
    if (finished) this.note('both containers are done');
    await this.uploadJournal();
    return { uploaded, failed, waiting, cancelled, finished: finished && failed.length === 0 && recorded };
  }

  /**
   * The checkpoint goes up whole or not at all: the evaluator rewrites it in place, and one caught mid-write
   * is what a new pod would resume from (every route again). Text that is not JSON waits for the next pass;
   * if it is still the same then, it is what the agent left, and goes up for the control plane to judge.
   * Returns false when it waits.
   */
  private async uploadCheckpoint(key: string, fingerprint: string): Promise<boolean> {
    const text = await readRegularFile(this.config.checkpointPath, DEFAULT_MAX_CHECKPOINT_BYTES);
    if (text === undefined) {
      // Over the control plane's limit: it goes up as it is (capped), to be refused with a reason.
      await this.artifacts.putFile(key, this.config.checkpointPath, { maxBytes: this.config.maxUploadBytes });
      return true;
    }
    if (!isJson(text) && this.tornCheckpoint !== fingerprint) {
      this.tornCheckpoint = fingerprint;
      return false;
    }
    this.tornCheckpoint = undefined;
    await this.artifacts.put(key, text, 'application/json');
    return true;
  }

  /** A line of logcopy's own log: `pitwall logs --container logcopy` reads it. */
  private note(line: string): void {
    this.journal.push(`${this.now().toISOString()} ${line}`);
    this.journalWritten += 1;
    if (this.journal.length > JOURNAL_LINES) this.journal.splice(0, this.journal.length - JOURNAL_LINES);
  }

  private async uploadJournal(): Promise<void> {
    if (this.journalWritten === this.journalUploaded) return;
    const written = this.journalWritten;
    const key = `${this.config.prefix}logs/logcopy-${this.config.worker}.log`;
    try {
      if (!this.journalResumed) {
        // A pod replacing a lost one carries on the log its logcopy left, as the containers' logs do.
        const earlier = (await this.artifacts.get(key))?.split('\n').filter(Boolean) ?? [];
        this.journal.unshift(...earlier.slice(-JOURNAL_LINES));
        this.journal.splice(0, Math.max(0, this.journal.length - JOURNAL_LINES));
        this.journalResumed = true;
      }
      await this.artifacts.put(key, `${this.journal.join('\n')}\n`, 'text/plain');
      this.journalUploaded = written;
    } catch (error) {
      this.warn(`logcopy: its own log not uploaded, trying again: ${(error as Error).message}`);
    }
  }

  /**
   * What a pass could not do is tried on the next: not a crash, which would count against the Job's
   * backoffLimit and fail the worker (S3 or DynamoDB away for a moment). Returns false: not done.
   */
  private retryLater(what: string, error: unknown): false {
    this.warn(`logcopy: ${what}, trying again: ${(error as Error).message}`);
    this.note(`${what}, trying again: ${(error as Error).message}`);
    return false;
  }

  /**
   * The loop of the logcopy sidecar: sync every period until both containers are done and all is up, or
   * the signal fires (the pod ends when the agent does, whether it finished, crashed or lost its node),
   * with one last flush then.
   */
  async run(signal: AbortSignal): Promise<'finished' | 'stopped'> {
    while (!signal.aborted) {
      const report = await this.syncOnce();
      if (report.finished) return 'finished';
      await sleep(this.config.periodMs, signal);
    }
    // SIGTERM: a last flush before the pod goes, what it could not send (a failed upload, a checkpoint caught
    // mid-write) tried again within the pod's grace: what is not up is lost, and a new pod drives it again.
    for (let pass = 0; pass < LAST_FLUSH_PASSES; pass += 1) {
      const report = await this.syncOnce();
      if (report.failed.length === 0 && report.waiting.length === 0) break;
      await delay(LAST_FLUSH_PAUSE_MS);
    }
    return 'stopped';
  }

  /**
   * Before the containers start: the worker's logs come back (a pod replacing one that was lost starts with
   * new emptyDirs; the scripts append to them, and the next upload keeps what the old pod wrote), and a
   * worker gets back the checkpoint it uploaded, to resume with the next route. Returns the names of the
   * files restored.
   */
  async restore(): Promise<string[]> {
    const { prefix, worker, logDir, checkpointPath } = this.config;
    const wanted: [string, string][] = ['agent', 'simulator'].map((role) => [
      `logs/${role}-${worker}.log`,
      join(logDir, `${role}-${worker}.log`),
    ]);
    // The worker's folder is its submission's: what is there is this attempt's (a pod before it crashed or
    // lost its node) or an earlier attempt's, which a resumed one continues. A first attempt has none.
    wanted.unshift(['checkpoint.json', checkpointPath]);
    const restored: string[] = [];
    for (const [key, path] of wanted) {
      const body = await this.artifacts.get(`${prefix}${key}`);
      if (body === undefined) continue;
      await mkdir(dirname(path), { recursive: true });
      await writeRegularFile(path, body);
      restored.push(basename(path));
    }
    return restored;
  }

  private async files(): Promise<[string, string][]> {
    const { checkpointPath, statusDir, logDir, prefix } = this.config;
    const files: [string, string][] = [[checkpointPath, `${prefix}checkpoint.json`]];
    for (const name of await listNames(statusDir)) files.push([join(statusDir, name), `${prefix}status/${name}`]);
    for (const name of await listNames(logDir)) {
      // logcopy's own log is written from memory: a file of that name in the shared folder is the agent's.
      if (name.startsWith('logcopy-')) continue;
      files.push([join(logDir, name), `${prefix}logs/${basename(name)}`]);
    }
    return files;
  }

  private async currentProgress(): Promise<WorkerProgress> {
    const base = {
      submissionPk: this.config.submissionPk,
      worker: this.config.worker,
      attempt: this.config.attempt,
      heartbeatAt: this.now().toISOString(),
      ...(this.lastOutputAt ? { lastOutputAt: this.lastOutputAt } : {}),
    };
    try {
      // A checkpoint the control plane would refuse for its size is not read into memory here either.
      const text = await readRegularFile(this.config.checkpointPath, DEFAULT_MAX_CHECKPOINT_BYTES);
      if (text === undefined) return base;
      const checkpoint = parseCheckpoint(text);
      if (!checkpoint) return base;
      const [done, total] = checkpoint._checkpoint.progress;
      return { ...base, done, total, entryStatus: checkpoint.entry_status };
    } catch {
      return base; // no checkpoint yet, or one the control plane will reject when it merges
    }
  }

  private async relayCancel(): Promise<boolean> {
    if (this.cancelRelayed) return true;
    if ((await this.artifacts.get(artifactKeys.cancel(this.config.submissionPk, this.config.attempt))) === undefined)
      return false;
    await mkdir(this.config.statusDir, { recursive: true });
    await writeRegularFile(join(this.config.statusDir, `simulation-${this.config.worker}.cancel`), '');
    this.cancelRelayed = true;
    this.note('the control plane asked the containers to stop: cancel file written');
    return true;
  }
}

// The agent writes the folders logcopy reads (and the checkpoint it restores), and logcopy alone holds AWS
// credentials: a link, a FIFO or a folder in their place is never read or written through. `lstat` skips
// them; O_NOFOLLOW on the open (openRegularFile) closes the gap between that look and the open.

async function fingerprintOf(path: string): Promise<string | undefined> {
  try {
    const info = await lstat(path);
    return info.isFile() ? `${info.size}:${info.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

/** The file's text if it is of at most `maxBytes`; throws for a link or what is not a regular file. */
async function readRegularFile(path: string, maxBytes: number): Promise<string | undefined> {
  const { file, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) return undefined;
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/** Writes a regular file, replacing whatever else the agent put at its path instead of writing through it. */
async function writeRegularFile(path: string, body: string): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !existing.isFile()) await rm(path, { recursive: true, force: true });
  const file = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await file.writeFile(body);
  } finally {
    await file.close();
  }
}

async function listNames(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
