const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' });

/** 1250 → "$12.50" (the API counts money in cents). */
export const formatCents = (cents: number): string => money.format(cents / 100);

/** "12.5" → 1250; undefined when it is not an amount with at most two decimals. */
export function parseCents(text: string): number | undefined {
  const match = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (match === null) return undefined;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  return whole * 100 + fraction;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An ISO time as local date and time, for tooltips. */
export function formatDateTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(ms);
}
