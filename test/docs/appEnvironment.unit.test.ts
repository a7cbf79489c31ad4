import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APP_ENVIRONMENT } from '../../src/server/appConfig.js';

const SOURCE = readFileSync(new URL('../../src/server/appConfig.ts', import.meta.url), 'utf8');

describe('the app configuration reference', () => {
  it('lists every environment variable loadAppConfig reads, and no other', () => {
    const body = SOURCE.slice(SOURCE.indexOf('export function loadAppConfig('));
    const helpers = SOURCE.slice(0, SOURCE.indexOf('export const APP_ENVIRONMENT'));
    const read = new Set(
      [
        ...`${helpers}\n${body}`.matchAll(
          /env\.([A-Z][A-Z0-9_]+)|\(\s*env,\s*'([A-Z][A-Z0-9_]+)'/g,
        ),
      ].map((m) => m[1] ?? m[2]),
    );
    const documented = new Set(APP_ENVIRONMENT.flatMap((v) => v.names));
    expect([...documented].sort()).toEqual([...read].sort());
  });

  it('gives each variable a default and a meaning', () => {
    for (const v of APP_ENVIRONMENT) {
      expect(v.default.trim(), v.names.join()).not.toBe('');
      expect(v.meaning.trim(), v.names.join()).not.toBe('');
    }
  });
});
