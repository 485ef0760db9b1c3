/**
 * Every error Pitwall raises on purpose is a named class. The state machine's Retry and Catch
 * match on `name`, so names are part of the contract: rename one and the ASL must follow.
 */
export class PitwallError extends Error {
  /** Transient errors may succeed on retry; the state machine retries only these. */
  readonly transient: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The SQS message from EvalAI is not one Pitwall can act on. Never transient. */
export class InvalidMessageError extends PitwallError {
  /** The message field at fault, e.g. `submission_pk`, or `(body)` for the whole body. */
  readonly field: string;

  constructor(field: string, reason: string, options?: ErrorOptions) {
    super(`invalid submission message: ${field}: ${reason}`, options);
    this.field = field;
  }
}

/**
 * A host's command that would break a rule (a republish over a cancel, a resume of a run that did not fail,
 * a requeue of one that has begun): the message says which, in one line.
 */
export class OperatorActionRefusedError extends PitwallError {}

/** A status change that the submission lifecycle does not allow. */
export class IllegalTransitionError extends PitwallError {
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string, options?: ErrorOptions) {
    super(`a submission cannot go from ${from} to ${to}`, options);
    this.from = from;
    this.to = to;
  }
}

/** A worker's checkpoint file that cannot be trusted; the merge skips it and reports the worker. */
export class CheckpointRejectedError extends PitwallError {
  /** Where in the file, e.g. `_checkpoint.records[3].scores.score_route`, or `(file)`. */
  readonly path: string;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`checkpoint rejected: ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** Partial results that cannot be merged together (the official merge stops on the same cases). */
export class MergeError extends PitwallError {}

/** A CARLA route file Pitwall cannot plan with. */
export class RouteFileError extends PitwallError {}

/** EvalAI did not answer, or answered 5xx: worth retrying with backoff. */
export class EvalAiUnavailableError extends PitwallError {
  override readonly transient = true;
}

/** EvalAI answered 429, or Pitwall's shared budget of EvalAI requests is spent for now. */
export class EvalAiRateLimitedError extends PitwallError {
  override readonly transient = true;
  /** Seconds EvalAI asked us to wait, when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, retryAfterSeconds?: number, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Pitwall's own EvalAI budget had no slot for the request, so nothing was sent: the state machine waits
 * and tries again, however long it takes. Running out of budget delays a submission, it never fails one.
 */
export class EvalAiBudgetSpentError extends EvalAiRateLimitedError {}

/**
 * EvalAI refused the host token (401 token_not_valid, or no credentials). Retrying cannot help: the host
 * must act. The execution ends with this error for the hosts; the participant is not told it failed.
 */
export class EvalAiAuthError extends PitwallError {}

/** The token is valid, but its EvalAI user is not a host of the challenge (EvalAI's 401/400 "not authorized"). */
export class EvalAiNotHostError extends EvalAiAuthError {}

/** The token's EvalAI user has not verified its e-mail address (EvalAI's 403 "Please verify your email!"). */
export class EvalAiUnverifiedEmailError extends EvalAiAuthError {}

/** EvalAI refused a request as invalid (4xx other than 401/404/429). */
export class EvalAiRejectedError extends PitwallError {
  readonly status: number;

  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** EvalAI answered with something Pitwall cannot read. */
export class EvalAiResponseError extends PitwallError {}

/** The submission (or record) does not exist. */
export class NotFoundError extends PitwallError {}

/** A conditional write found the record changed since it was read (another execution or the sweeper moved it on). */
export class RecordChangedError extends PitwallError {}

/** This execution works on an attempt that a newer attempt of the same submission replaced. */
export class StaleAttemptError extends PitwallError {}

/** The Kubernetes API (or the local executor) did not answer or answered 5xx. */
export class JobRunnerUnavailableError extends PitwallError {
  override readonly transient = true;
}

/** The job runner refused a request for a reason retrying cannot fix (401/403, invalid manifest). */
export class JobRunnerRejectedError extends PitwallError {}

/** The artifact store (S3) did not answer, or a transfer broke off: worth retrying. */
export class ArtifactStoreUnavailableError extends PitwallError {
  override readonly transient = true;
}

/**
 * A file in a folder the agent can write is not a regular file (a link, a FIFO, a folder): it is not read or
 * written through, whatever it points at.
 */
export class FileRefusedError extends PitwallError {}

/** The submissions queue (SQS) refused or did not answer a message Pitwall sent. */
export class SubmissionQueueUnavailableError extends PitwallError {
  override readonly transient = true;
}
