// Checks for untrusted values crossing a webview boundary. A check says what is wrong
// (so the host can answer a malformed request with a reason the webview can show) rather
// than only whether something is wrong. Each check carries the type it admits, so a
// protocol's declared types and its runtime checks cannot drift apart (webviewRpc.ts).

/**
 * What is wrong with an untrusted value, as a sentence about `at` (where the value sits,
 * e.g. `params.filter.model`), or undefined when the value is a T.
 */
export type Check<T> = ((v: unknown, at?: string) => string | undefined) & {
  /** Never set: it binds the check to the type it admits; in a tuple, so that a check admitting undefined cannot stand for a required field. */
  readonly admits?: [T];
};

/** A check for every field of T, each admitting that field's type (optional ones, undefined too). */
export type Fields<T> = { [K in keyof Required<T>]: Check<T[K]> };

/** Strings are bounded: a webview could otherwise send megabytes where a name belongs. */
export const MAX_TEXT = 4096;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const VALUE = 'value';

export function str(max = MAX_TEXT): Check<string> {
  return (v, at = VALUE) => (typeof v === 'string' && v.length <= max ? undefined : `${at} must be a string of at most ${max} characters`);
}

export const bool: Check<boolean> = (v, at = VALUE) => (typeof v === 'boolean' ? undefined : `${at} must be true or false`);

export const finite: Check<number> = (v, at = VALUE) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${at} must be a finite number`);

export const safeInt: Check<number> = (v, at = VALUE) => (Number.isSafeInteger(v) ? undefined : `${at} must be an integer`);

/** Message ids, counts and row counts: a non-negative integer. */
export const count: Check<number> = (v, at = VALUE) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : `${at} must be a non-negative integer`);

export function intIn(min: number, max: number): Check<number> {
  return (v, at = VALUE) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `${at} must be an integer from ${min} to ${max}`;
}

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (v, at = VALUE) => (values.includes(v as T) ? undefined : `${at} must be one of ${values.map((x) => `'${x}'`).join(', ')}`);
}

/** Admits what any of the checks admits; `what` describes them all, for the refusal. */
export function anyOf<T extends unknown[]>(what: string, ...checks: { [I in keyof T]: Check<T[I]> }): Check<T[number]> {
  return (v, at = VALUE) => (checks.some((c) => c(v, at) === undefined) ? undefined : `${at} must be ${what}`);
}

export const nothing: Check<null> = (v, at = VALUE) => (v === null ? undefined : `${at} must be null`);

/** A field the other side may leave out. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, at) => (v === undefined ? undefined : check(v, at));
}

/** A field of the type that this boundary never carries; `why` is told to whoever sent it. */
export function absent(why: string): Check<undefined> {
  return (v, at = VALUE) => (v === undefined ? undefined : `${at} is not accepted: ${why}`);
}

/**
 * An object with exactly these fields: an unknown key is refused (it could reach a query
 * the host builds from the object). T is given at the call so that every field of the
 * declared type needs a check.
 */
export function object<T>(fields: Fields<T>): Check<T> {
  const checks = fields as Record<string, Check<unknown>>;
  return (v, at = VALUE) => {
    if (!isObject(v)) return `${at} must be an object`;
    const unknown = Object.keys(v).find((k) => !Object.hasOwn(checks, k));
    if (unknown !== undefined) return `${at} has an unknown field '${unknown.slice(0, 64)}'`;
    for (const [k, check] of Object.entries(checks)) {
      const problem = check(v[k], `${at}.${k}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}
