// One process must never open and close its own file descriptor on a database while
// it also has a SQLite connection to it: POSIX advisory locks belong to the process,
// and closing ANY descriptor of a file drops ALL of the process's locks on it
// (sqlite.org/howtocorrupt.html § 2.2). The doctor reads the raw header with a
// plain fd, so every touch of a database file in this process runs through this
// gate, one at a time per file.

const tails = new Map<string, Promise<unknown>>();

export function withFileGate<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
