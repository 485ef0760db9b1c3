import { readFile } from 'node:fs/promises';
import { UsageError } from './io.js';

/** Reads a file the user named, turning "not found" and friends into a plain message. */
export async function readUserFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new UsageError(`cannot read ${path}: ${reason}`, { cause: error });
  }
}
