import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { FileRefusedError } from '@pitwall/domain';

/**
 * Opens a file that sits in a folder the agent writes, for reading: never through a link (O_NOFOLLOW on the
 * open itself, so no swap between a look and the open), never blocking on a FIFO, and only a regular file.
 * Throws FileRefusedError otherwise; the caller closes the handle.
 */
export async function openRegularFile(path: string): Promise<{ file: FileHandle; size: number }> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new FileRefusedError(`${path} is a link`);
    throw error;
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new FileRefusedError(`${path} is not a regular file`);
    return { file, size: info.size };
  } catch (error) {
    await file.close();
    throw error;
  }
}
