import { describe, expect, it } from 'vitest';
import { formatCents, parseCents } from '../src/lib/format.ts';
import { relativeTime } from '../src/lib/relativeTime.ts';
import { sparkline } from '../src/lib/sparkline.ts';

describe('relativeTime', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  const ago = (seconds: number) => new Date(now - seconds * 1000);

  it('says "now" for the last few seconds', () => {
    expect(relativeTime(ago(0), now, 'en')).toBe('now');
    expect(relativeTime(ago(9), now, 'en')).toBe('now');
  });

  it('counts whole units down, so 3 minutes 59 seconds is "3 minutes ago"', () => {
    expect(relativeTime(ago(45), now, 'en')).toBe('45 seconds ago');
    expect(relativeTime(ago(3 * 60 + 59), now, 'en')).toBe('3 minutes ago');
    expect(relativeTime(ago(61 * 60), now, 'en')).toBe('1 hour ago');
    expect(relativeTime(ago(5 * 3600), now, 'en')).toBe('5 hours ago');
  });

  it('uses words for the day before and larger units further back', () => {
    expect(relativeTime(ago(26 * 3600), now, 'en')).toBe('yesterday');
    expect(relativeTime(ago(10 * 86400), now, 'en')).toBe('last week');
    expect(relativeTime(ago(75 * 86400), now, 'en')).toBe('2 months ago');
    expect(relativeTime(ago(800 * 86400), now, 'en')).toBe('2 years ago');
  });

  it('handles the future, ISO strings and other locales', () => {
    expect(relativeTime(new Date(now + 2 * 3600_000 + 5), now, 'en')).toBe('in 2 hours');
    expect(relativeTime('2026-01-10T11:57:00Z', now, 'en')).toBe('3 minutes ago');
    expect(relativeTime(ago(180), now, 'de')).toBe('vor 3 Minuten');
  });

  it('answers an empty string for a time it cannot read', () => {
    expect(relativeTime('not a time', now, 'en')).toBe('');
  });
});

describe('money', () => {
  it('formats cents as dollars', () => {
    expect(formatCents(1250)).toMatch(/12\.50/);
  });

  it('reads amounts with up to two decimals into cents', () => {
    expect(parseCents('12.5')).toBe(1250);
    expect(parseCents('12.05')).toBe(1205);
    expect(parseCents(' 7 ')).toBe(700);
    expect(parseCents('0,99')).toBe(99);
  });

  it('refuses anything else', () => {
    for (const text of ['', 'abc', '1.234', '-3', '1e3', '12.']) {
      expect(parseCents(text)).toBeUndefined();
    }
  });
});

describe('sparkline', () => {
  it('draws nothing for no values', () => {
    expect(sparkline([], 100, 20)).toEqual({ line: '', area: '', max: 0 });
  });

  it('spans the width and puts the largest value at the top and zero at the bottom', () => {
    const { line, area, max } = sparkline([0, 5, 10], 100, 20);
    expect(max).toBe(10);
    expect(line).toBe('M0,19 L50,10 L100,1');
    expect(area).toBe('M0,19 L50,10 L100,1 L100,20 L0,20 Z');
  });

  it('draws a flat line along the bottom when every value is zero', () => {
    expect(sparkline([0, 0], 10, 10).line).toBe('M0,9 L10,9');
  });
});
