import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PortBook } from '../src/index.js';

// Jobs run by processes share this machine's network, so each needs CARLA's ports of its own, for as long
// as it lives: a port that was free for a moment (picked with bind(0), then closed) could go to another Job,
// or to any program's bind(0), while the simulator that had it restarts.

const open: Server[] = [];
afterEach(() => {
  for (const server of open.splice(0)) server.close();
});

describe('PortBook', () => {
  it('hands out ports below the kernel ephemeral range, each once while it is held', async () => {
    const book = PortBook.belowEphemeral();
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 40 }, () => book.take()));
    expect(new Set(ports).size).toBe(40);
    for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
  });

  it('skips a port something on the machine listens on', async () => {
    const book = new PortBook(41_000, 41_002);
    const taken = createServer();
    open.push(taken);
    await new Promise<void>((resolve) => taken.listen(41_000, '127.0.0.1', resolve));
    expect(await book.take()).toBe(41_001);
  });

  it('gives a port out again once it is given back, and says when all are held', async () => {
    const book = new PortBook(41_010, 41_012);
    const first = await book.take();
    const second = await book.take();
    await expect(book.take()).rejects.toThrow('no free port in 41010-41011');
    book.give(first);
    expect(await book.take()).toBe(first);
    expect(second).not.toBe(first);
  });
});
