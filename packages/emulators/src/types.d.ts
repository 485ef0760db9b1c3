// Minimal declarations for the two CommonJS servers Pitwall embeds.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  function dynalite(options?: Record<string, unknown>): Server;
  export default dynalite;
}

declare module 's3rver' {
  import type { Server } from 'node:http';

  export default class S3rver {
    constructor(options: Record<string, unknown>);
    /** Set by run(). */
    httpServer?: Server;
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
