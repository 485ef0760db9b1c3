import type { ArtifactStore } from '../control/ports.js';

/** Artifacts in memory, for unit tests; `beforeAccess` lets a test interleave another step. */
export class MemoryArtifactStore implements ArtifactStore {
  readonly files = new Map<string, string>();
  beforeAccess: ((operation: 'get' | 'put', key: string) => void | Promise<void>) | undefined;

  async get(key: string): Promise<string | undefined> {
    await this.beforeAccess?.('get', key);
    return this.files.get(key);
  }

  async put(key: string, body: string): Promise<void> {
    await this.beforeAccess?.('put', key);
    this.files.set(key, body);
  }
}
