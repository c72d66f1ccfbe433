// Last line of defence for "secrets never reach ClickHouse": ingest scrubs
// the payloads it knows, and this catches credentials by their well-known
// shapes in whatever text the sink writes (raw payloads, dead letters,
// error messages). A match is replaced, never logged.

const SECRET_PATTERNS: readonly RegExp[] = [
  // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-...) keys
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  // Cursor admin/API keys
  /\bkey_[A-Za-z0-9]{32,}/g,
  // GitHub tokens
  /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g,
  // Slack tokens
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  // AWS access key ids
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // Google API keys
  /\bAIza[0-9A-Za-z_-]{35}/g,
  // JWTs (OAuth access / id tokens)
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  // Authorization header values
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{12,}=*/gi,
];

const ANY_SECRET = new RegExp(SECRET_PATTERNS.map((p) => p.source).join('|'), 'i');

export const REDACTED = '[redacted]';

/**
 * A looser net than SECRET_PATTERNS, for a record's wire bytes read as
 * latin1 (one char per byte): every string of an Avro record is its UTF-8
 * bytes, contiguous, behind a length prefix. The prefix may be a word
 * character, so no word boundaries here; whitespace may be a multi-byte
 * character, so Bearer/Basic alone count; all patterns are ASCII, so they
 * match the bytes as they match the text. Whatever SECRET_PATTERNS would
 * find in any string of the record, this finds in the bytes (tested).
 */
const WIRE_PREFILTER = new RegExp([
  'sk-[A-Za-z0-9_-]{20}', 'key_[A-Za-z0-9]{32}', 'gh[pousr]_[A-Za-z0-9]{30}', 'github_pat_[A-Za-z0-9_]{30}',
  'xox[abposr]-[A-Za-z0-9-]{10}', '(?:AKIA|ASIA)[0-9A-Z]{16}', 'AIza[0-9A-Za-z_-]{35}', 'eyJ[A-Za-z0-9_-]{8,}\\.eyJ',
  // Case folded by hand: the 'i' flag makes the whole scan markedly slower.
  '[Bb][Ee][Aa][Rr][Ee][Rr]', '[Bb][Aa][Ss][Ii][Cc]',
].join('|'));

/** False only when no string inside these encoded bytes can hold a secret-shaped token. */
export function mayHoldSecretBytes(bytes: Buffer): boolean {
  return WIRE_PREFILTER.test(bytes.toString('latin1'));
}

/** The text with every secret-shaped token replaced, and how many were. */
export function redactSecrets(text: string): { text: string; redactions: number } {
  // One combined test first: nearly every payload holds no secret.
  if (!ANY_SECRET.test(text)) return { text, redactions: 0 };
  let redactions = 0;
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, scheme?: string) => {
      redactions += 1;
      return typeof scheme === 'string' && /^(bearer|basic)$/i.test(scheme) ? `${scheme} ${REDACTED}` : REDACTED;
    });
  }
  return { text: out, redactions };
}
