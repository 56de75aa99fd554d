/*
 * JSON whose integer ids may exceed 2^53 (Shopify order and refund ids such as
 * 820982911946154508): JSON.parse would round them to a different id. Such integers are read as
 * strings of their exact digits; everything else parses as JSON.parse does.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** JSON.parse, with integers beyond ±2^53 − 1 kept as their digits (strings). Throws SyntaxError. */
export function parseJsonKeepingIds(text: string): unknown {
  return JSON.parse(quoteBigIntegers(text)) as unknown;
}

function quoteBigIntegers(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      // Skip the string, escapes included.
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const start = i;
      i++;
      while (i < text.length && /[0-9.eE+-]/.test(text[i] as string)) i++;
      const token = text.slice(start, i);
      if (/^-?\d{16,}$/.test(token)) {
        const n = BigInt(token);
        if (n > MAX_SAFE || n < -MAX_SAFE) {
          out += text.slice(from, start) + `"${token}"`;
          from = i;
        }
      }
      continue;
    }
    i++;
  }
  return from === 0 ? text : out + text.slice(from);
}
