/**
 * Puts an adapter's error translator at the boundary of a port: every method of `port`
 * returns a promise whose rejection went through `translate`, with the port, the method and
 * its first (name-like) argument as context. Adapters wrap each store once here instead of
 * wrapping every driver call by hand, so no call can be forgotten.
 *
 * @example
 * return translatingErrors(store, 'SQLite checkpoint store', (e, ctx) => translateSqliteError(e, ctx, path));
 */
export function translatingErrors<T extends object>(
  port: T,
  what: string,
  translate: (error: unknown, context: string) => unknown,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(port)) {
    if (typeof value !== 'function') {
      wrapped[name] = value;
      continue;
    }
    const method = value as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]): Promise<unknown> =>
      // Starting inside a promise turns a synchronous throw into a translated rejection too.
      new Promise<unknown>((resolve) => resolve(method.apply(port, args))).catch(
        (error: unknown) => {
          throw translate(error, `${what}: ${name}${describeArgument(args[0])}`);
        },
      );
  }
  return wrapped as T;
}

function describeArgument(arg: unknown): string {
  return typeof arg === 'string' ? `('${arg.length > 80 ? `${arg.slice(0, 80)}…` : arg}')` : '()';
}
