// Secrets never reach a pasted diagnostic report (issue 11 item 11).
import * as assert from 'node:assert/strict';
import { redact } from '../../../src/shared/redact';
import { formatReport } from '../../../src/shared/reportText';
import type { HealthReport } from '../../../src/shared/model';

const CASES: [string, string, string[]][] = [
  // [input, expected output, secrets that must be gone]
  ['node proxy.js --api-key=sk-live-abcdefghijklmnop123456', 'node proxy.js --api-key=[REDACTED]', ['sk-live']],
  ['node proxy.js --api-key sk-abcdefghijklmnopqrstuv --port 8080', 'node proxy.js --api-key [REDACTED] --port 8080', ['sk-abc']],
  ['tool --token "abc def" --verbose', 'tool --token [REDACTED] --verbose', ['abc def']],
  ['tool --auth-token=xyz123 -v', 'tool --auth-token=[REDACTED] -v', ['xyz123']],
  ['curl https://api.example.com/x?token=abc123&page=2', 'curl https://api.example.com/x?token=[REDACTED]&page=2', ['abc123']],
  ['env PASSWORD=hunter2 DB_PASSWORD=s3cr3t node x.js', 'env PASSWORD=[REDACTED] DB_PASSWORD=[REDACTED] node x.js', ['hunter2', 's3cr3t']],
  ['curl -H "Authorization: Bearer eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJl"', 'curl -H "Authorization: Bearer [REDACTED]"', ['eyJhbG']],
  ['curl -H Authorization:Basic dXNlcjpwYXNz x', 'curl -H Authorization:Basic [REDACTED] x', ['dXNlcjpwYXNz']],
  ['ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123 node x', 'ANTHROPIC_API_KEY=[REDACTED] node x', ['sk-ant']],
  ['python run.py sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123', 'python run.py [REDACTED]', ['sk-ant']],
  ['aws s3 ls --profile x AKIAIOSFODNN7EXAMPLE', 'aws s3 ls --profile x [REDACTED]', ['AKIAIOSFODNN7EXAMPLE']],
  ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY x', 'AWS_SECRET_ACCESS_KEY=[REDACTED] x', ['wJalrXUtnFEMI']],
  ['psql postgres://admin:pa55word@db.internal:5432/traces', 'psql postgres://admin:[REDACTED]@db.internal:5432/traces', ['pa55word']],
  ['git push https://x:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a/b', 'git push https://x:[REDACTED]@github.com/a/b', ['ghp_']],
  ['{"password": "p@ss w0rd", "user": "me"}', '{"password": [REDACTED], "user": "me"}', ['p@ss']],
  ['node app --client-secret=abc --secret xyz', 'node app --client-secret=[REDACTED] --secret [REDACTED]', ['=abc', 'xyz']],
];

describe('redact', () => {
  for (const [input, expected, gone] of CASES) {
    it(`redacts ${input.slice(0, 48)}`, () => {
      const out = redact(input);
      assert.equal(out, expected);
      for (const g of gone) assert.ok(!out.includes(g), `${g} still in ${out}`);
    });
  }

  it('leaves ordinary command lines, paths and numbers alone, and is idempotent', () => {
    for (const s of [
      'node /home/me/proj/packages/proxy/dist/index.js --port 8080',
      'sqlite3 .ai-tests/traces.db SELECT COUNT(*) FROM traces;',
      'tokens: 300 · latency 1200 ms · busy_timeout = 5000',
      'python -m http.server --bind 127.0.0.1 https://example.com/path',
    ])
      assert.equal(redact(s), s);
    const once = redact('x --token=abc Authorization: Bearer abcdefghijkl');
    assert.equal(redact(once), once);
  });

  it('the diagnostic report carries no holder secret, in markdown and text', () => {
    const report = {
      path: '/w/.ai-tests/traces.db',
      checkedAt: '2026-11-26T10:00:00Z',
      mode: 'full',
      durationMs: 3,
      healthy: false,
      reachable: true,
      journalMode: 'delete',
      journalModeSource: 'pragma',
      files: {
        db: { exists: true, size: 1 },
        wal: { exists: false, size: 0 },
        shm: { exists: false, size: 0 },
        journal: { exists: false, size: 0, hot: false },
      },
      holders: [
        {
          pid: 42,
          label: 'node',
          kind: 'other',
          self: false,
          locks: ['SHARED'],
          files: ['db'],
          command: 'node worker.js --api-key=sk-ant-api03-SECRETSECRETSECRET99 --db postgres://u:hunter2@h/db',
        },
      ],
      locks: [],
      lockSource: 'proc-locks',
      findings: [{ code: 'held', severity: 'error', title: 'held', message: 'PID 42 (node worker.js --token SECRETTOKEN) holds SHARED', fixes: [] }],
    } as unknown as HealthReport;
    for (const markdown of [true, false]) {
      const text = formatReport(report, { markdown });
      for (const secret of ['SECRETSECRET', 'hunter2', 'SECRETTOKEN']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
      assert.match(text, /--api-key=\[REDACTED\]/);
    }
  });
});
