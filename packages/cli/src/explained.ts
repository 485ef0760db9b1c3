import { StageConfigError } from '@pitwall/deploy/stage-file';
import {
  GpuDiscoveryError,
  HostQueueUnavailableError,
  ImageBuildError,
  LocalRuntimeBusyError,
  RouteFileError,
} from '@pitwall/local';
import { UsageError } from './io.js';

/**
 * What is the user's to sort out, said in one line: a state folder another runtime holds, images that
 * would not build, a stage file, a host queue, route file or GPU the machine does not have.
 */
const USERS_TO_SORT_OUT = [
  LocalRuntimeBusyError,
  ImageBuildError,
  StageConfigError,
  HostQueueUnavailableError,
  RouteFileError,
  GpuDiscoveryError,
];

export function asUsageError(error: unknown): unknown {
  return USERS_TO_SORT_OUT.some((kind) => error instanceof kind)
    ? new UsageError((error as Error).message, { cause: error })
    : error;
}

export async function explained<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asUsageError(error);
  }
}
