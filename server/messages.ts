import type { z } from 'zod';

/*
 * The words people read: validation messages in plain language (one error map for the API and the
 * admin, so a field says "must be 0 or more", never "Too small: expected number to be >=0"), field
 * names as words, and counts with the right plural.
 */

/** "1 affiliate", "2 affiliates"; `many` for nouns that do not just take an "s". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** The verb that agrees with a count: `agree(1, 'is', 'are')` → "is". */
export const agree = (n: number, one: string, many: string): string => (n === 1 ? one : many);

/** Field labels that are not just their name split into words. */
const LABELS: Record<string, string> = {
  refId: 'Referral ID',
  siteUrl: 'Store URL',
  destinationUrl: 'Destination URL',
  postbackUrl: 'Postback URL',
  productIds: 'Product IDs',
  affiliateId: 'Affiliate',
  campaignId: 'Campaign',
  orderId: 'Order ID',
  clickId: 'Click ID',
  baseCurrency: 'Base currency',
  costCurrency: 'Cost currency',
  exchangeRates: 'Exchange rates',
};

/** A field path as words: "cookieDays" → "Cookie days", "items.0.totalCost" → "Items 1 total cost". */
export function fieldLabel(field: string): string {
  const words = field
    .split('.')
    .map((part) => {
      if (/^\d+$/.test(part)) return String(Number(part) + 1);
      const known = LABELS[part];
      if (known) return known;
      return part
        .replace(/_/g, ' ')
        .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .toLowerCase()
        .replace(/\b(url|id|ip|ua)\b/g, (w) => w.toUpperCase());
    })
    .join(' ')
    .trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'The value';
}

/** A field's message as a sentence: ("cookieDays", "must be 0 or more") → "Cookie days must be 0 or more". */
export function fieldSentence(field: string, message: string): string {
  // A message that is already a sentence (starts with a capital) stands on its own.
  if (/^[A-Z]/.test(message)) return message;
  if (field === '(body)' || field === '_form') return message[0]!.toUpperCase() + message.slice(1);
  return `${fieldLabel(field)} ${message}`;
}

const list = (values: readonly unknown[]) => {
  const shown = values.slice(0, 8).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return shown.join(', ') + (values.length > 8 ? ', …' : '');
};

const num = (v: unknown) => (typeof v === 'bigint' ? v.toString() : Number(v).toLocaleString('en-US'));

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  date: 'a date',
  bigint: 'a whole number',
};

/**
 * The message for a zod issue that its schema gave none: a fragment that follows the field's
 * name ("must be 0 or more"), so the API can say `{ field, message }` and a page can say
 * "Cookie days must be 0 or more".
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'number' && typeof issue.input === 'number' && !Number.isFinite(issue.input))
        return 'must be a finite number';
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const min = num(issue.minimum);
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return Number(issue.minimum) <= 1 ? 'must not be empty' : `must have at least ${min} items`;
      return issue.inclusive === false ? `must be more than ${min}` : `must be ${min} or more`;
    }
    case 'too_big': {
      const max = num(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} items`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be ${max} or less`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${list(issue.values)}` : `must be one of: ${list(issue.values)}`;
    case 'invalid_format':
      if (issue.format === 'email') return 'must be an email address';
      if (issue.format === 'url') return 'must be a URL';
      if (issue.format === 'regex') return 'is not in the expected form';
      if (issue.format === 'starts_with') return `must start with "${String(issue.prefix)}"`;
      if (issue.format === 'ends_with') return `must end with "${String(issue.suffix)}"`;
      if (issue.format === 'includes') return `must contain "${String(issue.includes)}"`;
      return `must be a valid ${issue.format.replace(/_/g, ' ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${num(issue.divisor)}`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? 'unknown field' : 'unknown fields';
    case 'invalid_union':
      return 'is not valid here';
    case 'invalid_key':
      return 'has a key that is not valid';
    case 'invalid_element':
      return 'has a value that is not valid';
    default:
      return undefined;
  }
}
