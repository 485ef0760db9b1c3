import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cdiDevices, GpuDiscoveryError, GpuPool } from '../src/executors/gpu-pool.js';

/** A CDI spec folder as `nvidia-ctk cdi generate` leaves it: each GPU by index and by UUID, and `all`. */
function specDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pitwall-cdi-'));
  const devices = ['0', 'GPU-aaaa-1111', '1', 'GPU-bbbb-2222', 'all'].map((name) => ({ name, containerEdits: {} }));
  writeFileSync(
    join(dir, 'nvidia.yaml'),
    `cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: ${JSON.stringify(devices)}\n`,
  );
  writeFileSync(
    join(dir, 'other.json'),
    JSON.stringify({ cdiVersion: '0.5.0', kind: 'vendor.example/fpga', devices: [{ name: 'x' }] }),
  );
  return dir;
}

describe('the GPU pool', () => {
  it('finds the GPUs a CDI kind declares, by UUID rather than index, never `all`', () => {
    expect(cdiDevices('nvidia.com/gpu', [specDir()])).toEqual(['GPU-aaaa-1111', 'GPU-bbbb-2222']);
    expect(cdiDevices('vendor.example/fpga', [specDir()])).toEqual(['x']);
  });

  it('gives each Job one free GPU, the same again to the same Job, none when all are held, and takes them back', async () => {
    const pool = await GpuPool.discover({ specDirs: [specDir()] });
    expect(pool.size).toBe(2);
    expect(pool.take('job-a')).toEqual({ device: 'nvidia.com/gpu=GPU-aaaa-1111', uuid: 'GPU-aaaa-1111' });
    expect(pool.take('job-a')?.device).toBe('nvidia.com/gpu=GPU-aaaa-1111');
    expect(pool.take('job-b')?.device).toBe('nvidia.com/gpu=GPU-bbbb-2222');
    expect(pool.take('job-c')).toBeUndefined();
    pool.give('job-a');
    expect(pool.take('job-c')?.device).toBe('nvidia.com/gpu=GPU-aaaa-1111');
  });

  it('keeps the GPU an adopted Job held before a restart', async () => {
    const pool = await GpuPool.discover({ specDirs: [specDir()] });
    pool.hold('adopted', 'nvidia.com/gpu=GPU-bbbb-2222');
    expect(pool.take('new')?.device).toBe('nvidia.com/gpu=GPU-aaaa-1111');
    expect(pool.take('newer')).toBeUndefined();
  });

  it('refuses a machine with no GPU of the kind, and a device its specs do not declare', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pitwall-cdi-'));
    await expect(GpuPool.discover({ kind: 'vendor.example/gpu', specDirs: [empty] })).rejects.toThrow(
      new GpuDiscoveryError(
        `no GPU of CDI kind vendor.example/gpu on this machine (looked in ${empty}): install NVIDIA's container toolkit and run \`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml\``,
      ),
    );
    await expect(GpuPool.discover({ specDirs: [specDir()], devices: ['GPU-cccc-3333'] })).rejects.toThrow(
      'the CDI specs of kind nvidia.com/gpu declare no device GPU-cccc-3333',
    );
  });
});
