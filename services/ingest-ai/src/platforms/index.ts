// The three platforms: their auth headers, the secrets those put on the wire,
// and their source definitions.
import type { Platform } from '../normalise/common.ts';
import { anthropicAuthHeaders, anthropicSource } from './anthropic/source.ts';
import { cursorBasicAuth, cursorSource } from './cursor/source.ts';
import { openAiAuthHeaders, openAiSource } from './openai/source.ts';
import type { PlatformDeps, PlatformSource } from './types.ts';

export function authHeaders(platform: Platform, key: string): Record<string, string> {
  switch (platform) {
    case 'openai':
      return openAiAuthHeaders(key);
    case 'anthropic':
      return anthropicAuthHeaders(key);
    case 'cursor':
      return { authorization: cursorBasicAuth(key) };
  }
}

/** Every form in which a key travels, so each can be scrubbed (Cursor's is base64 in a header). */
export function secretForms(key: string): string[] {
  const basic = Buffer.from(`${key}:`).toString('base64');
  return [key, basic, `Basic ${basic}`];
}

export function platformSource(platform: Platform, deps: PlatformDeps): PlatformSource {
  switch (platform) {
    case 'openai':
      return openAiSource(deps);
    case 'anthropic':
      return anthropicSource(deps);
    case 'cursor':
      return cursorSource(deps);
  }
}
