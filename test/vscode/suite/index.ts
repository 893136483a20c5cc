// Entry point VS Code's test runner loads into the extension host (extensionTestsPath):
// desktop VS Code through @vscode/test-electron, or code-server through the e2e runner.
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, reporter: 'spec', forbidOnly: true });
  // The test file is bundled with this one; it registers its suites once mocha's globals exist.
  mocha.suite.emit('pre-require', globalThis, 'extension.test', mocha);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./extension.test');
  return new Promise((resolve, reject) => {
    // The extension host's console is not where a runner looks: carry the failures in the error.
    const failed: string[] = [];
    const runner = mocha.run((failures) => (failures ? reject(new Error(`${failures} extension-host test(s) failed:\n${failed.join('\n')}`)) : resolve()));
    runner.on('fail', (test, err: Error) => failed.push(`- ${test.fullTitle()}: ${err.message}`));
  });
}
