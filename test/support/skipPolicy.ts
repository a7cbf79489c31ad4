/**
 * Whether a suite may skip because a real service or the browser is missing. Never under
 * CI=true; locally only when the developer opted out with EVENTLOOM_SKIP_SERVICES=1 (then
 * `npm test` does not start the services either). Otherwise `npm test` has started them, so
 * a missing service is a failure, not a silent skip.
 */
export function skipsAllowed(): boolean {
  return process.env.CI !== 'true' && process.env.EVENTLOOM_SKIP_SERVICES === '1';
}

/** Throws when skipping is not allowed; otherwise prints why the suite skips. */
export function skipOrFail(what: string, why: string): void {
  if (!skipsAllowed()) {
    const hint =
      process.env.CI === 'true'
        ? 'CI=true, where a skip is a failure'
        : 'or set EVENTLOOM_SKIP_SERVICES=1 to skip these suites instead';
    throw new Error(`${why} (${hint})`);
  }
  process.stderr.write(`skipping ${what} (EVENTLOOM_SKIP_SERVICES=1): ${why}\n`);
}
