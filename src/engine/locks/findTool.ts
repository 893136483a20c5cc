// Whether lsof or PowerShell is there, found the way a shell would find it, before the
// lock view decides what it can show: an answer of "not installed" is worth a plain note,
// not a failed spawn.
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

export type ToolName = 'lsof' | 'powershell';

/** Finds a tool: its path, or undefined when it is not there. */
export type ToolFinder = (name: ToolName) => string | undefined;

/**
 * Where the tools live when PATH leaves them out: an editor started from the Dock gets
 * /usr/bin:/bin:/usr/sbin:/sbin at best, and lsof is /usr/sbin/lsof on macOS and
 * /usr/local/sbin/lsof from FreeBSD's ports.
 */
const LSOF_DIRS: readonly string[] = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/opt/homebrew/bin', '/sbin', '/bin'];

function isExecutable(p: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    if (platform !== 'win32') accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `file` (a bare name looked up on PATH, or a path) if it is an executable file. */
export function resolveExecutable(
  file: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  extraDirs: readonly string[] = [],
): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (file.includes('/') || (platform === 'win32' && file.includes('\\'))) return isExecutable(file, platform) ? file : undefined;
  const dirs = [...(env.PATH ?? env.Path ?? '').split(p.delimiter).filter((d) => d.length > 0), ...extraDirs];
  const exts = platform === 'win32' && !/\.[^.\\/]+$/.test(file) ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean) : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = p.join(dir, file + ext);
      if (isExecutable(candidate, platform)) return candidate;
    }
  }
  return undefined;
}

/** Windows PowerShell 5.1, which every Windows since 10 has, at its fixed place first. */
function findPowerShell(env: NodeJS.ProcessEnv): string | undefined {
  const root = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir;
  const fixed = root ? path.win32.join(root, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe') : undefined;
  if (fixed && isExecutable(fixed, 'win32')) return fixed;
  return resolveExecutable('powershell.exe', 'win32', env);
}

const TOOL_CACHE_MS = 60_000;
const found = new Map<string, { at: number; path: string | undefined }>();

/**
 * The finder for this machine. Answers are kept a minute: a poll must not walk PATH each
 * second, and a tool installed meanwhile is seen soon enough.
 */
export function systemToolFinder(lsofPath?: string): ToolFinder {
  return (name) => {
    const key = `${name}\0${lsofPath ?? ''}\0${process.env.PATH ?? ''}`;
    const hit = found.get(key);
    if (hit && performance.now() - hit.at < TOOL_CACHE_MS) return hit.path;
    const p =
      name === 'powershell'
        ? process.platform === 'win32'
          ? findPowerShell(process.env)
          : undefined
        : resolveExecutable(lsofPath ?? 'lsof', process.platform, process.env, lsofPath ? [] : LSOF_DIRS);
    found.set(key, { at: performance.now(), path: p });
    return p;
  };
}
