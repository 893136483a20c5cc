// Which way of seeing the database's users runs on this machine, and what the report
// must say it cannot see. Pure: the platform and the tools at hand in, the method and
// the note out, so every platform's answer is tested here on Linux (docs/DESIGN.md,
// "Who holds the lock": other platforms degrade gracefully and say what they cannot see).

/**
 * - 'proc': Linux's /proc/locks and /proc/PID/fd: who holds which SQLite lock, and who has the files open;
 * - 'lsof': who has the files open (macOS, the BSDs, a Linux without /proc), no locks;
 * - 'restart-manager': Windows' Restart Manager: which processes have the files open, no locks;
 * - 'none': nothing can be seen.
 */
export type LockViewMethod = 'proc' | 'lsof' | 'restart-manager' | 'none';

export interface LockViewAbilities {
  platform: NodeJS.Platform;
  /** `/proc/locks` could be read. */
  procfs: boolean;
  /** lsof is installed. */
  lsof: boolean;
  /** powershell.exe is there (Windows). */
  powershell: boolean;
}

export interface LockViewPlan {
  method: LockViewMethod;
  /** For the user: what this method cannot see. Absent where nothing is missing. */
  note?: string;
}

const PLATFORM_NAMES: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'Linux',
  android: 'Android',
  darwin: 'macOS',
  win32: 'Windows',
  freebsd: 'FreeBSD',
  openbsd: 'OpenBSD',
  netbsd: 'NetBSD',
  sunos: 'illumos/Solaris',
  aix: 'AIX',
  haiku: 'Haiku',
  cygwin: 'Cygwin',
};

/** The platform as a person calls it. */
export function platformName(platform: NodeJS.Platform): string {
  return PLATFORM_NAMES[platform] ?? platform;
}

/** /proc/locks in Linux's format, with PIDs and inodes: only Linux kernels have it. */
export function hasLinuxProcLocks(platform: NodeJS.Platform): boolean {
  return platform === 'linux' || platform === 'android';
}

/** What the Linux fallback has said since before other platforms had their own notes. */
export const LINUX_LSOF_NOTE =
  'This platform does not show which SQLite lock a process holds (no /proc/locks): listed are the processes that have the database open, from lsof.';
const LINUX_NOTHING_NOTE = 'This system has neither /proc/locks nor lsof, so the doctor cannot see which processes have the database open or hold its locks.';

export function planLockView(a: LockViewAbilities): LockViewPlan {
  const name = platformName(a.platform);
  if (hasLinuxProcLocks(a.platform)) {
    if (a.procfs) return { method: 'proc' };
    return a.lsof ? { method: 'lsof', note: LINUX_LSOF_NOTE } : { method: 'none', note: LINUX_NOTHING_NOTE };
  }
  if (a.platform === 'win32') {
    return a.powershell
      ? {
          method: 'restart-manager',
          note: 'Windows: who has the file open (Restart Manager); which SQLite lock each holds cannot be seen here.',
        }
      : {
          method: 'none',
          note: 'Cannot see who has the file open on Windows: powershell.exe, which asks Restart Manager, is not available. Which SQLite lock each process holds cannot be seen on Windows at all.',
        };
  }
  if (a.lsof) return { method: 'lsof', note: `${name}: who has the file open (lsof); which SQLite lock each holds cannot be seen here.` };
  if (a.platform === 'darwin') {
    return {
      method: 'none',
      note: 'Cannot see who has the file open on macOS: lsof (normally /usr/sbin/lsof) is not there. Which SQLite lock each process holds cannot be seen on macOS at all.',
    };
  }
  return {
    method: 'none',
    note: `Cannot see who has the file open on ${name}: it has no /proc/locks and lsof is not installed (installing lsof shows who has it open; which SQLite lock each holds stays hidden).`,
  };
}
