import type { ArtifactStore } from '@pitwall/domain';

/** Artifacts in memory, for unit tests. */
export class MemoryArtifactStore implements ArtifactStore {
  readonly files = new Map<string, string>();

  async get(key: string): Promise<string | undefined> {
    return this.files.get(key);
  }

  async put(key: string, body: string): Promise<void> {
    this.files.set(key, body);
  }
}
