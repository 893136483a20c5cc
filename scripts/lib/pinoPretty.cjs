'use strict';
// Log lines as the TraceForge proxy prints them: fastify's pino logger through pino-pretty
// with `translateTime: 'HH:MM:ss Z'` (shared/TRACEFORGE.md § Its log), as in
// test/fixtures/logs/proxy-pretty.log. One event is a header line, `[04:35:58 UTC] ERROR:
// database is locked`, then its fields as indented continuation lines; an error's stack is
// printed unquoted under `"stack":`. Used by the stand-in proxy and to seed the demo's log.

const LEVELS = { 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** `04:35:58 UTC`: a time with no date, as pino-pretty prints it. */
function clock(time) {
  return `${new Date(time).toISOString().slice(11, 19)} UTC`;
}

function prettyValue(value, indent) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const pad = ' '.repeat(indent + 2);
  const keys = Object.keys(value);
  const lines = keys.map((k, i) => {
    if (k === 'stack' && typeof value[k] === 'string') {
      const [head, ...frames] = value[k].split('\n');
      return `${pad}"stack":\n${pad}    ${head}${frames.map((f) => `\n${pad}    ${f}`).join('')}`;
    }
    return `${pad}${JSON.stringify(k)}: ${prettyValue(value[k], indent + 2)}${i < keys.length - 1 ? ',' : ''}`;
  });
  return `{\n${lines.join('\n')}\n${' '.repeat(indent)}}`;
}

/** One event, newline-terminated: `[HH:MM:ss UTC] LEVEL: msg` and `    key: value` lines. */
function prettyEvent(level, msg, fields = {}, time = Date.now()) {
  const rest = Object.entries(fields).map(([k, v]) => `    ${k}: ${prettyValue(v, 4)}`);
  return [`[${clock(time)}] ${LEVELS[level] ?? 'INFO'}: ${msg}`, ...rest].join('\n') + '\n';
}

/** better-sqlite3's error for a lock, as pino serialises it; `proxyDir` names the stack's files. */
function sqliteBusy(proxyDir) {
  return {
    type: 'SqliteError',
    message: 'database is locked',
    stack: [
      'SqliteError: database is locked',
      `    at Database.prepare (${proxyDir}/node_modules/better-sqlite3/lib/methods/wrappers.js:5:21)`,
      `    at SqliteStorage.saveTrace (${proxyDir}/dist/storage-sqlite.js:88:28)`,
      `    at Object.<anonymous> (${proxyDir}/dist/routes/traces.js:41:23)`,
    ].join('\n'),
    code: 'SQLITE_BUSY',
  };
}

/** fastify's request fields. */
function requestFields(reqId, url, remotePort) {
  return { reqId, req: { method: 'POST', url, host: 'localhost:8787', remoteAddress: '127.0.0.1', remotePort } };
}

module.exports = { clock, prettyEvent, sqliteBusy, requestFields };
