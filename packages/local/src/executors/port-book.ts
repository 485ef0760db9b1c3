import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Every port of the book's range is held or in use on this machine. */
export class NoFreePortError extends Error {
  override readonly name = 'NoFreePortError';
}

/**
 * The ports Jobs run as processes listen on (CARLA's RPC and traffic-manager ports): they share this machine's
 * network, as pods on one node would not. A port is the Job's until it is given back, so no other Job gets it
 * while the simulator that has it restarts; ports come from below the kernel's ephemeral range, which bind(0)
 * and outbound connections take theirs from.
 */
export class PortBook {
  private readonly held = new Set<number>();
  private cursor: number;

  /** Ports from `low` up to, not including, `high`. */
  constructor(
    private readonly low: number,
    private readonly high: number,
  ) {
    this.cursor = low;
  }

  /** The 10 000 ports below the kernel's ephemeral range (Linux's; 32768 where it cannot be read). */
  static belowEphemeral(): PortBook {
    let ephemeralLow = 32_768;
    try {
      ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    } catch {
      // Not Linux: the IANA range's start is the common default.
    }
    return new PortBook(Math.max(1024, ephemeralLow - 10_000), ephemeralLow);
  }

  /** A port no Job holds and nothing on the machine uses now; held until given back. */
  async take(): Promise<number> {
    for (let tried = 0; tried < this.high - this.low; tried += 1) {
      const port = this.cursor;
      this.cursor = port + 1 < this.high ? port + 1 : this.low;
      if (this.held.has(port)) continue;
      this.held.add(port);
      if (await canListen(port)) return port;
      this.held.delete(port);
    }
    throw new NoFreePortError(`no free port in ${this.low}-${this.high - 1}`);
  }

  give(port: number): void {
    this.held.delete(port);
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
