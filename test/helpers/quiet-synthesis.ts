/**
 * CDK prints its validation report with console.error whenever a synthesis has a finding, warnings included, and jest
 * prints each console.error with a stack trace. Reports made only of GeuseMaker's own, expected user-facing warnings
 * (`geusemaker:` annotations, asserted by the tests that expect them) are dropped; anything else is printed as usual.
 */
export function withoutExpectedWarnings<T>(synthesize: () => T): T {
  return captureConsoleError(synthesize, (message) => !isOnlyOwnWarnings(message));
}

/** Runs `synthesize` with console.error swallowed: for syntheses whose outcome the caller asserts from the returned error and report. */
export function withoutValidationOutput<T>(synthesize: () => T): T {
  return captureConsoleError(synthesize, () => false);
}

function captureConsoleError<T>(run: () => T, shouldPrint: (message: string) => boolean): T {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    if (shouldPrint(args.map(String).join(' '))) original(...args);
  };
  try {
    return run();
  } finally {
    console.error = original;
  }
}

function isOnlyOwnWarnings(message: string): boolean {
  const acknowledgements = message.match(/Acknowledge with '[^']+'/g) ?? [];
  return acknowledgements.length > 0
    && !/\bERROR\b/.test(message)
    && acknowledgements.every((a) => a.startsWith("Acknowledge with 'Annotation::geusemaker:"));
}
