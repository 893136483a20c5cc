// Names the processes the lock monitor sees, once per process: a PID with the same start
// time is the same process, so its name (processNames.ts) is read once and kept, and
// ten samples a second cost no /proc/PID reads for processes already named.
import { procStatFields, startTicksOf } from '../locks/procStat';
import { processInfo } from '../locks/processInfo';
import { classifyHolder, type HolderClass } from '../locks/processNames';
import { holdsSocket, listeningInodes, proxyPortFor } from '../locks/proxyPort';

interface Named {
  start: string;
  cls: HolderClass;
  /** Epoch ms of the last sample that asked for it: names of processes long gone are dropped. */
  usedAt: number;
}

/** Names of processes not asked for in this long are forgotten. */
const FORGET_MS = 10 * 60_000;

export class HolderNames {
  private readonly named = new Map<number, Named>();
  private lastSweep = 0;

  constructor(
    private readonly dbPath: string,
    private readonly procRoot = '/proc',
  ) {}

  /** The name of a PID named before (by `name`), if any. */
  get(pid: number): HolderClass | undefined {
    return this.named.get(pid)?.cls;
  }

  /**
   * Names the PIDs of a sample that the previous sample did not have (or whose start time
   * changed: a reused PID). A PID that holds a lock in two samples in a row is the same
   * process: it cannot exit, be reused and lock again within one interval without a
   * sample seeing its locks go.
   */
  async name(pids: readonly number[], previous: ReadonlySet<number>, at: number): Promise<void> {
    const fresh: { pid: number; start: string }[] = [];
    for (const pid of pids) {
      const known = this.named.get(pid);
      if (known) known.usedAt = at;
      if (known && previous.has(pid)) continue;
      const start = startTicksOf(procStatFields(pid, this.procRoot) ?? []);
      if (known && known.start === start) continue;
      fresh.push({ pid, start });
    }
    if (fresh.length) {
      const infos = await Promise.all(fresh.map((f) => processInfo(this.procRoot, f.pid)));
      const classes = fresh.map((f, i) => classifyHolder(f.pid, infos[i].argv, process.pid, infos[i].cwd));
      // A process no name places may still be the proxy, by serving its port (bun, a bundle).
      const unsure = classes.map((c, i) => (c.kind === 'script' || c.kind === 'other' ? i : -1)).filter((i) => i >= 0);
      if (unsure.length) {
        const port = await proxyPortFor([this.dbPath]);
        const inodes = await listeningInodes(this.procRoot, port);
        for (const i of unsure) {
          if (await holdsSocket(this.procRoot, fresh[i].pid, inodes)) {
            classes[i] = classifyHolder(fresh[i].pid, infos[i].argv, process.pid, infos[i].cwd, { proxyPort: port });
          }
        }
      }
      fresh.forEach((f, i) => this.named.set(f.pid, { start: f.start, cls: classes[i], usedAt: at }));
    }
    if (at - this.lastSweep > FORGET_MS) {
      this.lastSweep = at;
      for (const [pid, n] of this.named) if (at - n.usedAt > FORGET_MS) this.named.delete(pid);
    }
  }
}
