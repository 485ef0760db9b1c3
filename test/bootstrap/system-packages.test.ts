import { describe, expect, it } from '@jest/globals';
import { installPlan, missingPackages, SYSTEM_PACKAGES } from '../../scripts/system-packages.mjs';

// `npm test` on a fresh machine: what its tests need beyond Node is installed where the user may, and
// otherwise named in one line with the command that installs it, before anything runs.

describe("npm test's system packages", () => {
  it('names the packages whose commands are missing, podman with the runtime it needs here', () => {
    const present = new Set(['shellcheck', 'podman', 'dockerd']);
    expect(missingPackages((command: string) => present.has(command))).toEqual([
      'podman',
      'runc',
      'conmon',
      'netavark',
      'catatonit',
      'tini',
      'chromium',
    ]);
    expect(missingPackages(() => true)).toEqual([]);
    expect(SYSTEM_PACKAGES.flatMap((entry) => entry.commands)).toEqual(
      expect.arrayContaining(['shellcheck', 'podman', 'dockerd', 'chromium']),
    );
  });

  it('installs as root or with password-less sudo, and otherwise stops with one line saying how', () => {
    const missing = ['shellcheck', 'chromium'];
    const install = ['apt-get', 'install', '-y', '--no-install-recommends', 'shellcheck', 'chromium'];
    expect(installPlan([], { root: false, sudo: false })).toEqual({ action: 'none' });
    expect(installPlan(missing, { root: true, sudo: false })).toEqual({ action: 'install', prefix: [], install });
    expect(installPlan(missing, { root: false, sudo: true })).toEqual({
      action: 'install',
      prefix: ['sudo', '-n'],
      install,
    });
    const stop = installPlan(missing, { root: false, sudo: false });
    expect(stop).toEqual({
      action: 'stop',
      message:
        '[pitwall] npm test needs Debian packages this machine lacks (shellcheck chromium) and may not install them itself (not root, no password-less sudo): run `sudo apt-get install -y --no-install-recommends shellcheck chromium`, then npm test again',
    });
  });
});
