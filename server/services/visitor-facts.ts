import { UAParser } from 'ua-parser-js';
import { isbot } from 'isbot';
import { USER_AGENT_LENGTH } from '../domain/limits.js';

/** Device, OS and browser from a user agent (ua-parser-js), cached: the same agents repeat a lot. */
export interface AgentFacts {
  device: string;
  os: string | null;
  browser: string | null;
  isBot: boolean;
}

const cache = new Map<string, AgentFacts>();

export function agentFacts(userAgent: string): AgentFacts {
  const key = userAgent.slice(0, USER_AGENT_LENGTH);
  const hit = cache.get(key);
  if (hit) return hit;
  const r = new UAParser(key).getResult();
  const facts: AgentFacts = {
    // ua-parser-js leaves desktop devices without a type.
    device: r.device.type ?? 'desktop',
    os: r.os.name ?? null,
    browser: r.browser.name ?? null,
    isBot: key === '' || isbot(key),
  };
  if (cache.size > 5000) cache.clear();
  cache.set(key, facts);
  return facts;
}

/** Primary languages of an Accept-Language header, most preferred first: "de-DE,de;q=0.9,en;q=0.8" → de, en. */
export function languagesOf(acceptLanguage: string): string[] {
  return [
    ...new Set(
      acceptLanguage
        .split(',')
        .map((part) => {
          const [tag = '', q] = part.trim().split(';q=');
          return { lang: tag.split('-')[0]!.toLowerCase(), q: q === undefined ? 1 : Number(q) };
        })
        .filter((x) => /^[a-z]{2,3}$/.test(x.lang) && x.q > 0)
        .sort((a, b) => b.q - a.q)
        .map((x) => x.lang),
    ),
  ].slice(0, 8);
}
