// Where a page may send the browser back to, read from a request (`next=`, the Referer of a refused form).

/** Only a same-site path may be a destination (no scheme, no //host, no backslash tricks); '/' otherwise. */
export function safeNext(next: string | undefined | null): string {
  if (!next || !/^\/(?![/\\])[^\s\\]*$/.test(next) || /[\u0000-\u001f]/.test(next)) return '/';
  return next;
}
