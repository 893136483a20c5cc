// Which filesystem holds the database. WAL keeps its index in a shared-memory file
// (-shm) that every process maps; on network filesystems and many FUSE mounts the
// mappings are not coherent between processes (or hosts), and WAL corrupts or fails
// (sqlite.org/wal.html § "WAL does not work over a network filesystem").
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { FsInfo } from '../../shared/model';

interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
}

const NETWORK = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', 'afs', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'beegfs']);
// 9p is how WSL2 shows Windows drives (/mnt/c); drvfs is WSL1's.
const HOST_SHARES = new Set(['9p', 'drvfs', 'vboxsf', 'prl_fs', 'vmhgfs', 'fuse.vmhgfs-fuse']);
const FUSE_UNSAFE = ['sshfs', 's3fs', 'rclone', 'gcsfuse', 'goofys', 'davfs', 'onedrive', 'dropbox', 'gvfsd-fuse', 'mergerfs'];

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    out.push({ device: unescapeMount(f[0]), mountPoint: unescapeMount(f[1]), fsType: f[2] });
  }
  return out;
}

export function classifyFs(fsType: string): { unsafe: boolean; reason?: string } {
  const t = fsType.toLowerCase();
  if (NETWORK.has(t)) return { unsafe: true, reason: `${fsType} is a network filesystem: processes on different hosts cannot share WAL's memory-mapped index` };
  if (HOST_SHARES.has(t))
    return { unsafe: true, reason: `${fsType} is a host/VM share (as WSL uses for Windows drives): shared memory and locks are not reliable there` };
  if (t.startsWith('fuse')) {
    const sub = t.slice(5);
    if (FUSE_UNSAFE.some((n) => sub.includes(n)))
      return { unsafe: true, reason: `${fsType} is a FUSE network mount: shared memory between processes is not coherent` };
  }
  return { unsafe: false };
}

/** The mount the file lives on: the longest mount point that prefixes its real path. */
export function findMount(mounts: Mount[], realPath: string): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const inside = mp === '/' || realPath === mp || realPath.startsWith(mp.endsWith('/') ? mp : mp + '/');
    // Later lines win on equal length: a mount stacked over another hides it.
    if (inside && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export async function filesystemOf(filePath: string, mountsFile = '/proc/mounts'): Promise<FsInfo | undefined> {
  let text: string;
  try {
    text = await fs.readFile(mountsFile, 'utf8');
  } catch {
    return undefined; // not Linux: nothing to say
  }
  let real: string;
  try {
    real = await fs.realpath(filePath);
  } catch {
    real = await fs.realpath(path.dirname(filePath)).catch(() => path.resolve(filePath));
  }
  const m = findMount(parseMounts(text), real);
  if (!m) return undefined;
  const c = classifyFs(m.fsType);
  return { mountPoint: m.mountPoint, fsType: m.fsType, device: m.device, unsafeForWal: c.unsafe, ...(c.reason ? { reason: c.reason } : {}) };
}
