/// <reference lib="dom" />
import { config } from './config.js';
import { run } from './commands.js';
import { loadVisitor, urlParam } from './visitor.js';
import { bypassCache } from './bypass.js';

/*
 * The Affix storefront snippet (SPEC §4.1). Pages call `affix(...)` before this loads through
 * the queue stub `window.affix = window.affix || function () { (affix.q = affix.q || []).push(arguments) }`;
 * here the queue is replayed and `window.affix` becomes the real function. Nothing in here may
 * throw into the host page.
 */

interface AffixFunction {
  (command?: unknown, data?: unknown): Promise<string | null> | undefined;
  q?: ArrayLike<unknown>[];
  /** Set on the real function: a second copy of the snippet leaves the first in charge. */
  v?: number;
}

const w = window as unknown as { affix?: AffixFunction };

function affix(command?: unknown, data?: unknown): Promise<string | null> | undefined {
  try {
    return run(command, data);
  } catch {
    return undefined;
  }
}
affix.v = 1;

try {
  const stub = w.affix;
  if (!stub || !stub.v) {
    const queue = (stub && stub.q) || [];
    loadVisitor();
    w.affix = affix;
    let clicked = false;
    for (let i = 0; i < queue.length; i++) if ((queue[i] || [])[0] === 'click') clicked = true;
    // The automatic click of a landing page. A redirect link (GET /r) that brought the visitor
    // here has recorded the click already and appended affix_vid: no second click then.
    if (!clicked && urlParam(config.params.affiliate) && !urlParam('affix_vid')) affix('click');
    for (let i = 0; i < queue.length; i++) {
      const args = queue[i] || [];
      affix(args[0], args[1]);
    }
    // A landing page of a campaign with bypass cache reloads with a fresh click when cached.
    bypassCache();
  }
} catch {
  /* never into the page */
}
