import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { concurrencyCheck } from '../../../src/engine/repair/concurrencyCheck';
import { REPO, sha256, traceWorkspace } from '../../support/helpers';

describe('verification: concurrent writers on a copy', () => {
  it("several writer processes with the long-term fix's settings see no busy error; the live DB is untouched", async () => {
    const { db } = await traceWorkspace({ rows: 200 });
    const hash = sha256(db);
    const progress: string[] = [];
    const r = await concurrencyCheck(db, {
      writers: 3,
      seconds: 1,
      writerScript: path.join(REPO, 'dist', 'writer.js'),
      onProgress: (e) => progress.push(e.message),
    });
    assert.equal(r.ok, true, r.message);
    assert.equal(r.busyErrors, 0);
    assert.ok(r.commits > 50, `commits ${r.commits}`);
    assert.match(r.message, /3 concurrent writers committed/);
    assert.ok(progress.some((m) => /3 writers for 1 s/.test(m)));
    assert.equal(sha256(db), hash);
    assert.deepEqual(fs.readdirSync(path.dirname(db)), ['traces.db']);
  });

  it('adapts to an older schema', async () => {
    const { db } = await traceWorkspace({ rows: 10, legacy: true });
    const r = await concurrencyCheck(db, { writers: 2, seconds: 0.5, writerScript: path.join(REPO, 'dist', 'writer.js') });
    assert.equal(r.ok, true, r.message);
  });
});
