// A process's command line and working folder from /proc, which is what names it
// (processNames.ts): `node dist/index.js` is the proxy only in packages/proxy.
import { promises as fsp } from 'node:fs';
import { readText } from '../util/tryFs';

export interface ProcessInfo {
  argv: string[];
  cwd?: string;
}

export async function processInfo(procRoot: string, pid: number): Promise<ProcessInfo> {
  const [cmdline, cwd] = await Promise.all([readText(`${procRoot}/${pid}/cmdline`), fsp.readlink(`${procRoot}/${pid}/cwd`).catch(() => undefined)]);
  let argv = (cmdline ?? '').split('\0');
  while (argv.length && argv[argv.length - 1] === '') argv.pop();
  if (!argv.length) {
    // Kernel threads and zombies have an empty cmdline; comm still names them.
    const comm = (await readText(`${procRoot}/${pid}/comm`))?.trim();
    argv = comm ? [comm] : [];
  }
  return { argv, ...(cwd ? { cwd } : {}) };
}
