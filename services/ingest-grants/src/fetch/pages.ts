// Page readers for the grant APIs' envelopes and the Link header (RFC 8288),
// refusing bodies that do not have the shape so a changed API fails loudly
// instead of looping. (h1-source is writing the framework's own readers for
// items/nextPageToken, value/@odata.nextLink and Link rel=next: these fold
// into those on merge.)
import { tetherError } from '#errors';
import type { Page } from '#source';

/** The `rel="next"` target of Link headers, repeated or comma-joined; null when none. */
export function linkNext(headers: Headers): string | null {
  const value = headers.get('link');
  if (!value) return null;
  // Headers.get joins repeated headers with ", "; a URL holds no unescaped "<" or ">".
  for (const m of value.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const params = m[2] ?? '';
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) return m[1]!;
  }
  return null;
}

function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw parseError(`${what}: response is not a JSON object`);
  return body as Record<string, unknown>;
}

/** `{items?, nextPageToken?}` (Google Reports: no `items` when a page is empty). */
export function googlePage(body: unknown, what: string): Page<string> {
  const o = objectBody(body, what);
  const items = o.items === undefined ? [] : o.items;
  if (!Array.isArray(items)) throw parseError(`${what}: "items" is not an array`);
  const next = o.nextPageToken;
  if (next === undefined || next === null || next === '') return { items, next: null };
  if (typeof next !== 'string') throw parseError(`${what}: nextPageToken is not a string`);
  return { items, next };
}

/** `{value, @odata.nextLink?}` (Microsoft Graph): the next link is followed verbatim. */
export function odataPage(body: unknown, what: string): Page<string> {
  const o = objectBody(body, what);
  if (!Array.isArray(o.value)) throw parseError(`${what}: response has no "value" array`);
  const next = o['@odata.nextLink'];
  if (next === undefined || next === null) return { items: o.value, next: null };
  if (typeof next !== 'string' || next === '') throw parseError(`${what}: @odata.nextLink is not a URL`);
  return { items: o.value, next };
}

/** A JSON array body with the next page in the Link header (Okta, GitHub). */
export function linkedArrayPage(body: unknown, headers: Headers, what: string): Page<string> {
  if (!Array.isArray(body)) throw parseError(`${what}: response is not a JSON array`);
  return { items: body, next: linkNext(headers) };
}

function parseError(message: string) {
  return tetherError('TETHER_SOURCE_PARSE', message);
}
