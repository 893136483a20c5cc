// The proxy's port, and who serves it: a process no name places (bun, a custom
// runner, a bundle) is still the proxy when it listens on the port in the proxy's
// `.ai-tests/config.yaml`.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readText } from '../util/tryFs';

/** The proxy's port when `.ai-tests/config.yaml` does not set `proxy_port` (TraceForge's default). */
export const DEFAULT_PROXY_PORT = 8787;

/** The folder the proxy runs in: the one holding the database's `.ai-tests` (TRACEFORGE.md § Where the database is). */
export function proxyDirOf(dbPath: string): string | undefined {
  const dir = path.dirname(dbPath);
  return path.basename(dir) === '.ai-tests' ? path.dirname(dir) : undefined;
}

/** `proxy_port` from the proxy's config.yaml (a top-level key; the schema has no nesting for it). */
export function parseProxyPort(yaml: string): number | undefined {
  const m = /^proxy_port\s*:\s*["']?(\d{1,5})["']?\s*(?:#.*)?$/m.exec(yaml);
  const port = m ? Number(m[1]) : NaN;
  return port > 0 && port < 65536 ? port : undefined;
}

/**
 * The port the proxy for `dbPath` listens on. A database outside any `.ai-tests`
 * (TRACEFORGE_SQLITE_PATH) gives no config to read, so TraceForge's default.
 */
export async function proxyPortFor(dbPaths: readonly string[]): Promise<number> {
  for (const db of dbPaths) {
    const dir = proxyDirOf(db);
    if (!dir) continue;
    const text = await readText(path.join(dir, '.ai-tests', 'config.yaml'));
    if (text !== undefined) return parseProxyPort(text) ?? DEFAULT_PROXY_PORT;
  }
  return DEFAULT_PROXY_PORT;
}

/** Socket inodes listening (state 0A) on `port` in /proc/net/tcp or tcp6 text. */
export function parseListeningInodes(text: string, port: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue;
    const local = f[1].split(':');
    if (parseInt(local[local.length - 1], 16) === port && f[9] !== '0') out.push(f[9]);
  }
  return out;
}

/** Inodes of the sockets listening on `port` in this network namespace. */
export async function listeningInodes(procRoot: string, port: number): Promise<Set<string>> {
  const texts = await Promise.all(['tcp', 'tcp6'].map(async (f) => (await readText(`${procRoot}/net/${f}`)) ?? ''));
  return new Set(texts.flatMap((t) => parseListeningInodes(t, port)));
}

/** Whether `pid` has one of `inodes` among its fds (`socket:[INODE]` links); false when its fds are unreadable. */
export async function holdsSocket(procRoot: string, pid: number, inodes: ReadonlySet<string>): Promise<boolean> {
  if (!inodes.size) return false;
  const dir = `${procRoot}/${pid}/fd`;
  const fds = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const fd of fds) {
    const link = await fsp.readlink(`${dir}/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m && inodes.has(m[1])) return true;
  }
  return false;
}
