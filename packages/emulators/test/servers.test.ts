import { connect } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { startDynamoDb, startS3 } from '../src/index.js';

// A client that outlives the server (logcopy in a Job's containers, mid-request when the runtime stops)
// must not hold the server's close for ever.
describe.each([
  ['dynalite', () => startDynamoDb()],
  ['s3rver', () => startS3({ buckets: ['b'] })],
])('the embedded %s', (_, start) => {
  it('closes within its grace even while a client holds a request open', async () => {
    const server = await start();
    const { hostname, port } = new URL(server.endpoint);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{'); // and never the rest
    socket.on('error', () => undefined);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5000);
    socket.destroy();
  }, 15_000);
});
