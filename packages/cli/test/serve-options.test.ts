import { describe, expect, it } from '@jest/globals';
import { loadMachineStage } from '@pitwall/deploy';
import { serveOptions } from '../src/commands/serve-run.js';

describe('pitwall serve’s runtime options', () => {
  it('serves the public status page only where the machine stage gives it an address', () => {
    const stage = loadMachineStage('workstation');
    expect(serveOptions('workstation', stage, 'token').publicStatus).toBeUndefined();
    const publicStatus = { host: '0.0.0.0', port: 8080, hostNames: ['status.example.org'] };
    const open = { ...stage, machine: { ...stage.machine, publicStatus } };
    expect(serveOptions('workstation', open, 'token').publicStatus).toEqual(publicStatus);
  });
});
