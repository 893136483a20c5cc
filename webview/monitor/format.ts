// How the Lock Monitor writes times, durations and rates. Pure.

const pad = (n: number) => String(n).padStart(2, '0');

/** Wall-clock time of an epoch-ms moment, in the viewer's zone: "04:35:58". */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration as people read lock holds: "80 ms", "6.2 s", "42 s", "3.5 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A window's length: "1 min", "5 min", "45 s". */
export function span(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/** "10 Hz", "1 Hz", "0.5 Hz". */
export function hz(rate: number): string {
  return `${Number.isInteger(rate) ? rate : rate.toFixed(1)} Hz`;
}

/** The longest hold sampling at `rate` can miss: "100 ms". */
export function missable(rate: number): string {
  return `${Math.round(1000 / rate)} ms`;
}

/** "12%". */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Commits per second: "38", "2.5", "0". */
export function perSecond(n: number): string {
  return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
}
