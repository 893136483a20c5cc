// The extension-host suite (test/vscode/suite, built into dist/test/suite.js) run inside
// code-server through the test-runner extension, in a window of its own.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withSession, type Session, type SessionOptions } from './harness';
import { workspace } from './proxyWorkspace';
import { tempDir } from '../support/helpers';

/**
 * Opens the suite's workspace (200 traces in rollback-journal mode, proxy commands configured),
 * runs the suite in the extension host and asserts that it passed. `afterSuite` looks at the
 * window once the suite is done, before it closes.
 */
export async function runExtensionHostSuite(
  name: string,
  opts: { trusted: boolean; env?: Record<string, string> } & Pick<SessionOptions, 'removeFromExtension'>,
  afterSuite?: (s: Session) => Promise<void>,
): Promise<void> {
  const { root } = await workspace({ rows: 200, proxyCommands: true });
  const resultFile = path.join(tempDir('tracedb-suite-'), 'result.json');
  let result: { ok: boolean; error?: string } | undefined;
  await withSession(
    name,
    root,
    { trusted: opts.trusted, removeFromExtension: opts.removeFromExtension, extensionTests: { env: opts.env ?? {}, resultFile } },
    async (s) => {
      const deadline = Date.now() + 180000;
      while (!fs.existsSync(resultFile)) {
        if (Date.now() > deadline) throw new Error('the extension-host suite did not finish in 180 s');
        await new Promise((r) => setTimeout(r, 250));
      }
      result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      await s.shot('suite-finished');
      // A failed suite is the news: its message, not a follow-up check's.
      if (result?.ok) await afterSuite?.(s);
    },
  );
  assert.equal(result?.ok, true, `the extension-host suite failed (its output is in the extension host log): ${result?.error}`);
}
