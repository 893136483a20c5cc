// The CLI finds the database and the log the way the proxy does (TRACEFORGE.md), on a checkout
// shaped like TraceForge. Needs dist/cli.js: the integration run builds it first.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTraceDb, REPO, tempDir } from '../../support/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeTraceforgeRepo } = require('../../fixtures/traceforgeRepo.cjs') as {
  writeTraceforgeRepo(root: string): { root: string; proxyDir: string; db: string; logDir: string };
};
const LOGS = path.join(REPO, 'test', 'fixtures', 'logs');
const CLI = path.join(REPO, 'dist', 'cli.js');

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('CLI: the database and log found as the proxy finds them', () => {
  it("the CLI, run from the repository root with no DB given, checks packages/proxy's DB and counts its pretty log's events", async () => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is built by `npm run build` (npm test builds first)');
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    await createTraceDb(repo.db, { rows: 5, journalMode: 'wal' });
    fs.mkdirSync(repo.logDir);
    const log = path.join(repo.logDir, 'proxy.log');
    // The fixture's events, re-timed to three hours ago: history for a healthy WAL DB.
    const then = new Date(Date.now() - 3 * 3600_000);
    const hhmmss = (d: Date) => d.toISOString().slice(11, 19);
    const pretty = fs.readFileSync(path.join(LOGS, 'proxy-pretty.log'), 'utf8').replace(/^\[\d\d:\d\d:\d\d UTC\]/gm, `[${hhmmss(then)} UTC]`);
    fs.writeFileSync(log, pretty);
    fs.utimesSync(log, then, then);
    const r = await cli(['check', '--json'], repo.root);
    const report = JSON.parse(r.stdout);
    assert.equal(report.path, repo.db);
    assert.match(r.stderr, /packages\/proxy\/\.ai-tests\/traces\.db/);
    assert.equal(report.log.path, log);
    assert.equal(report.log.lockErrors, 2, 'two events, not the 8 lines that mention it');
    assert.ok(report.log.last, 'pretty times are dated from the file');
    const f = report.findings.find((x: { code: string }) => x.code === 'lock-errors-in-log');
    assert.equal(f.severity, 'info');
    assert.match(f.title, /last seen 3 h ago/);
    assert.equal(r.code, 0, 'a healthy DB with only old lock errors checks healthy');

    // The same errors logged just now: in WAL mode with no recorded switch, a problem.
    fs.writeFileSync(log, pretty.replace(/^\[\d\d:\d\d:\d\d UTC\]/gm, `[${hhmmss(new Date())} UTC]`));
    const fresh = await cli(['check', '--json'], repo.root);
    assert.equal(JSON.parse(fresh.stdout).findings.find((x: { code: string }) => x.code === 'lock-errors-in-log').severity, 'warning');
    assert.equal(fresh.code, 1);
  });

  it('with no log file, the report says the proxy logs to stdout and where Restart Proxy keeps it', async () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    await createTraceDb(repo.db, { rows: 5, journalMode: 'wal' });
    const r = await cli(['check'], repo.root);
    assert.match(r.stdout, /No log file at .*packages\/proxy\/logs\/proxy\.log: the proxy logs to stdout/);
    assert.equal(r.code, 0);
  });
});
