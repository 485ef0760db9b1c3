// What `npm test` needs from the machine beyond Node: the Debian packages behind its container, Docker,
// pod-script and dashboard tests. Plain Node with no dependencies (it runs before anything is installed).
import { spawnSync } from 'node:child_process';

/** Each tool the tests run, the packages that bring it, and which tests need it. */
export const SYSTEM_PACKAGES = [
  { commands: ['shellcheck'], packages: ['shellcheck'], for: "the pod scripts' test" },
  // runc: this machine kind's hybrid cgroups refuse crun.
  {
    commands: ['podman', 'runc', 'tini'],
    packages: ['podman', 'runc', 'conmon', 'netavark', 'catatonit', 'tini'],
    for: 'the container tests',
  },
  { commands: ['dockerd'], packages: ['docker.io'], for: 'the Docker test' },
  { commands: ['chromium'], packages: ['chromium'], for: 'the dashboard test' },
];

/** The packages whose commands are not on this machine, by `has(command)`. */
export function missingPackages(has) {
  return SYSTEM_PACKAGES.filter((entry) => !entry.commands.every(has)).flatMap((entry) => entry.packages);
}

/**
 * What to do about the missing packages: nothing, install them (as root, or with sudo that asks no
 * password), or stop with one line naming them and the command that installs them.
 */
export function installPlan(missing, { root, sudo }) {
  if (missing.length === 0) return { action: 'none' };
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
  if (root) return { action: 'install', prefix: [], install };
  if (sudo) return { action: 'install', prefix: ['sudo', '-n'], install };
  return {
    action: 'stop',
    message: `[pitwall] npm test needs Debian packages this machine lacks (${missing.join(' ')}) and may not install them itself (not root, no password-less sudo): run \`sudo ${install.join(' ')}\`, then npm test again`,
  };
}

const commandExists = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** Installs what the tests need where it may; returns false (having said why, in one line) where it may not. */
export function ensureSystemPackages(run) {
  const missing = missingPackages(commandExists);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  const plan = installPlan(missing, { root, sudo });
  if (plan.action === 'none') return true;
  if (plan.action === 'stop') {
    console.error(plan.message);
    return false;
  }
  console.log(`[pitwall] installing what the tests run: ${missing.join(' ')}`);
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
  const [command, ...args] = [...plan.prefix, ...plan.install];
  if (run(command, args, quiet) === 0) return true;
  // A fresh machine has no package lists yet.
  const [update, ...updateArgs] = [...plan.prefix, 'apt-get', 'update'];
  return run(update, updateArgs, quiet) === 0 && run(command, args, quiet) === 0;
}
