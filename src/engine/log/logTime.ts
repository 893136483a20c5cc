// When a log line was written. pino writes JSON with an epoch or ISO `time`;
// pino-pretty prints an ISO date-time or, by default, only a time of day
// (`[14:03:12.123]`), which a scan dates from the file's mtime and the lines around it.

const DAY_MS = 86_400_000;
// Dating pino-pretty's date-less times tolerates this much disorder: an mtime rounded
// down to whole (FAT: even) seconds, or two processes appending to one file, would
// otherwise make a time a few ms "later" than the next one look like a midnight.
export const CLOCK_SLACK_MS = 60_000;
// Year 10000: beyond it toISOString() throws, and no real log line is dated there.
const MAX_TIME_MS = 253_402_300_800_000;

// A colour code: pino-pretty forced to colourise wraps the level (and may wrap the time) in one.
export const ANSI = '(?:\\x1b\\[[\\d;]*m)?';
const JSON_LINE_RE = /^\s*\{/;
// pino writes `level` then `time` first, so the first "time" key is the top-level one.
// A regex rather than JSON.parse: on a log full of errors, parsing every line would
// spend most of the time budget, and a truncated JSON line still yields its time.
const JSON_TIME_RE = /"time"\s*:\s*(?:(-?\d+(?:\.\d+)?)|"([^"]*)")/;
const ISO_RE = /(?<!\d)(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:\s?(Z|[+-]\d{2}(?::?\d{2})?)(?!\d))?/i;
// pino-pretty's default translateTime and `HH:MM:ss Z`: [04:35:58.123], [04:35:58 UTC],
// and with SYS: the local zone as dateformat prints it (EST, GMT+0100, +0100).
const CLOCK_RE = new RegExp(
  `(?:${ANSI}[A-Z]{4,7}${ANSI} )?\\[(\\d{1,2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,3}))?(?: ?([A-Za-z]{1,5})?([+-]\\d{2}(?::?\\d{2})?)?)?\\]`,
  'y',
);
// The abbreviations dateformat can print (US zones; elsewhere it prints GMT±hhmm).
const ZONE_MIN: Record<string, number> = {
  Z: 0,
  UT: 0,
  UTC: 0,
  GMT: 0,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
};

/**
 * Epoch ms of a line's date-time: a JSON line's `time` first, else the first ISO
 * date-time in it (UTC when it names no zone, as pino-pretty prints it by default).
 */
export function lineTime(line: string): number | undefined {
  if (JSON_LINE_RE.test(line)) {
    const m = JSON_TIME_RE.exec(line);
    if (m) {
      const t = m[1] !== undefined ? epochToMs(Number(m[1])) : parseDateTime(m[2]);
      if (t !== undefined) return t;
    }
  }
  const m = ISO_RE.exec(line);
  return m ? isoMatchToMs(m) : undefined;
}

function epochToMs(n: number): number | undefined {
  // pino's stdTimeFunctions.unixTime writes seconds; 1e11 ms would be 1973, 1e11 s year 5138.
  const ms = Math.abs(n) < 1e11 ? n * 1000 : n;
  return validTime(Math.round(ms));
}

function parseDateTime(s: string): number | undefined {
  const m = ISO_RE.exec(s);
  if (m) return isoMatchToMs(m);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : validTime(t);
}

function isoMatchToMs(m: RegExpExecArray): number | undefined {
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let offsetMin = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') offsetMin = offsetMinutes(zone);
  return validTime(Date.UTC(Number(y), month - 1, day, hour, minute, second, ms) - offsetMin * 60_000);
}

/** `+01`, `+0100` or `-04:30` in minutes east of UTC. */
function offsetMinutes(zone: string): number {
  const digits = zone.slice(1).replace(':', '');
  return (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * (zone[0] === '-' ? -1 : 1);
}

function validTime(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms < MAX_TIME_MS ? ms : undefined;
}

/**
 * The UTC time of day (ms since UTC midnight) of a date-less pino-pretty time at `at`.
 * Kept in UTC so a file whose printed offset changes (daylight saving) still dates
 * consistently; an abbreviation we cannot convert gives no time rather than a wrong one.
 */
export function clockAt(text: string, at: number): number | undefined {
  CLOCK_RE.lastIndex = at;
  const m = CLOCK_RE.exec(text);
  if (!m) return undefined;
  const [, h, mi, s, frac, abbr, offset] = m;
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMin = 0;
  if (abbr !== undefined) {
    const z = ZONE_MIN[abbr.toUpperCase()];
    if (z === undefined) return undefined;
    offsetMin = z;
  }
  if (offset !== undefined) offsetMin += offsetMinutes(offset);
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  const t = ((hour * 60 + minute - offsetMin) * 60 + second) * 1000 + ms;
  return ((t % DAY_MS) + DAY_MS) % DAY_MS;
}

/** The latest instant at or before `limit` whose UTC time of day is `clock`. */
export function latestAtOrBefore(clock: number, limit: number): number {
  const t = Math.floor(limit / DAY_MS) * DAY_MS + clock;
  return t > limit ? t - DAY_MS : t;
}

/** The earliest instant at or after `limit` whose UTC time of day is `clock`. */
export function earliestAtOrAfter(clock: number, limit: number): number {
  const t = Math.floor(limit / DAY_MS) * DAY_MS + clock;
  return t < limit ? t + DAY_MS : t;
}
