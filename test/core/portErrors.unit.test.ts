import { describe, expect, it } from 'vitest';
import { StoreFailedError } from '../../src/core/errors.js';
import { translatingErrors } from '../../src/core/portErrors.js';

describe('translatingErrors', () => {
  const translate = (error: unknown, context: string) =>
    new StoreFailedError(`${context}: ${(error as Error).message}`, { cause: error });

  it('translates a rejection and a synchronous throw, naming the port, method and argument', async () => {
    const cause = new Error('driver broke');
    const port = translatingErrors(
      {
        load: (_name: string) => Promise.reject(cause),
        save: (_name: string): Promise<void> => {
          throw cause;
        },
      },
      'Test store',
      translate,
    );
    await expect(port.load('emails')).rejects.toThrow("Test store: load('emails'): driver broke");
    await expect(port.save('emails')).rejects.toMatchObject({ code: 'STORE_FAILED', cause });
  });

  it('passes results and non-function properties through unchanged', async () => {
    const port = translatingErrors(
      { label: 'x', load: (n: number) => Promise.resolve(n + 1) },
      'Test store',
      translate,
    );
    expect(port.label).toBe('x');
    expect(await port.load(1)).toBe(2);
  });
});
