import { readFileSync } from 'node:fs';
import type { ArtifactStore, ChallengeConfig } from '@pitwall/domain';

/** A phase's route file is missing or unreadable. */
export class RouteFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RouteFileError';
  }
}

/** The route files the stage names, into the local bucket; a phase whose routes are not there stops the start. */
export async function uploadRouteFiles(
  artifacts: ArtifactStore,
  files: Readonly<Record<string, string>>,
  challenge: ChallengeConfig,
): Promise<void> {
  for (const [key, path] of Object.entries(files)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new RouteFileError(`cannot read the route file ${path} for ${key}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await artifacts.put(key, text, 'application/xml');
  }
  for (const [pk, phase] of Object.entries(challenge.phases)) {
    if ((await artifacts.get(phase.routesKey)) === undefined) {
      throw new RouteFileError(
        `phase ${pk} runs the routes ${phase.routesKey}, which this machine does not have: name its file under machine.routeFiles`,
      );
    }
  }
}
