const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

const formats = new Map<string, Intl.RelativeTimeFormat>();
const formatFor = (locale: string | undefined): Intl.RelativeTimeFormat => {
  const key = locale ?? '';
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    formats.set(key, format);
  }
  return format;
};

/**
 * "3 minutes ago", "yesterday", "in 2 hours": the time between `then` and `now` in the
 * largest unit that fits, rounded down (so a tweet is not "1 hour ago" after 31 minutes).
 * Under 10 seconds it is "now".
 */
export function relativeTime(then: Date | string, now: Date | number, locale?: string): string {
  const thenMs = typeof then === 'string' ? Date.parse(then) : then.getTime();
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (Number.isNaN(thenMs)) return '';
  const format = formatFor(locale);
  let amount = (thenMs - nowMs) / 1000;
  if (Math.abs(amount) < 10) return format.format(0, 'second');
  for (const [unit, size] of UNITS) {
    if (Math.abs(amount) < size) return format.format(Math.trunc(amount), unit);
    amount /= size;
  }
  return format.format(Math.trunc(amount), 'year');
}
