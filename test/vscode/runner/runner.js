'use strict';
// Test-only extension: loads the suite named by TRACEDB_EXTENSION_TESTS (dist/test/suite.js)
// into this extension host, runs it, and writes {failures, error} to
// TRACEDB_EXTENSION_TESTS_RESULT for the e2e runner to read. The suite itself is the
// same one @vscode/test-electron runs in desktop VS Code.
const fs = require('fs');

exports.activate = function activate() {
  const suite = process.env.TRACEDB_EXTENSION_TESTS;
  const resultFile = process.env.TRACEDB_EXTENSION_TESTS_RESULT;
  if (!suite || !resultFile) return;
  const write = (result) => fs.writeFileSync(resultFile, JSON.stringify(result));
  Promise.resolve()
    .then(() => require(suite).run())
    .then(
      () => write({ ok: true }),
      (e) => write({ ok: false, error: String((e && e.stack) || e) }),
    );
};

exports.deactivate = function deactivate() {};
