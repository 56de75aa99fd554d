/// <reference lib="dom" />

/*
 * The first-party cookie and its localStorage fallback. Every access is guarded: storage can
 * throw (blocked cookies, private modes, sandboxed frames) and the host page must never see it.
 */

export function readCookie(name: string): string | null {
  try {
    const m = document.cookie.match(new RegExp('(?:^|;\\s*)' + name + '=([^;]*)'));
    return m ? (m[1] as string) : null;
  } catch {
    return null;
  }
}

/** Writes a host-only cookie; `days` 0 deletes it. Values are URL-safe ids, so no encoding. */
export function writeCookie(name: string, value: string, days: number): void {
  try {
    document.cookie =
      name +
      '=' +
      value +
      '; path=/; max-age=' +
      days * 86400 +
      '; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '');
  } catch {
    /* cookies blocked */
  }
}

export function readStore(name: string): string | null {
  try {
    return localStorage.getItem(name);
  } catch {
    return null;
  }
}

export function writeStore(name: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(name);
    else localStorage.setItem(name, value);
  } catch {
    /* storage blocked or full */
  }
}
