import { UsageError } from './io.js';

/**
 * What is the user's to sort out, said in one line: a state folder another runtime holds, images that
 * would not build, a stage file, a host queue, route file or GPU the machine does not have. By the errors'
 * names, so that a command on a stage does not load the local runtime to recognise them.
 */
const USERS_TO_SORT_OUT = new Set([
  'LocalRuntimeBusyError',
  'ImageBuildError',
  'StageConfigError',
  'HostQueueUnavailableError',
  'RouteFileError',
  'GpuDiscoveryError',
]);

export function asUsageError(error: unknown): unknown {
  return error instanceof Error && USERS_TO_SORT_OUT.has(error.name)
    ? new UsageError(error.message, { cause: error })
    : error;
}

export async function explained<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asUsageError(error);
  }
}
