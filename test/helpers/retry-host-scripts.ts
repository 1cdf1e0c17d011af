/**
 * Host-script suites (bash under stubs) have failed intermittently when the machine is saturated: about one full run
 * in five, each time a different test, each passing alone (see the closing note of session 3). Until the cause is
 * found, a failing test of those suites is run up to twice more, and the first failure is printed in full, so a real
 * regression still fails (it fails three times) and a flake is still visible in the output.
 */
const testPath = expect.getState().testPath ?? '';
if (/[/\\]test[/\\](runtime|bootstrap)[/\\]/.test(testPath)) {
  jest.retryTimes(2, { logErrorsBeforeRetry: true });
}
