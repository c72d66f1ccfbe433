// Hostile strings for binder fuzzing: a seeded PRNG (mulberry32) so a failure
// names its seed and replays exactly.

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  "'", "''", "\\", "\\\\", "\\'", "'\\", "\\x27", "\\0", '"', '`', ';', '--', '/*', '*/', '#',
  "' OR 1=1 --", "' OR '1'='1", "'; DROP TABLE access_events; --", "') UNION ALL SELECT * FROM system.tables --",
  ' FORMAT CSV', '\nFORMAT TabSeparated', ' SETTINGS max_threads=1', ' INTO OUTFILE \'/tmp/x\'',
  '{s:String}', '{', '}', '{x:Int64}', '$1', '?', '%27', '%00', '\u0000', '\n', '\r', '\t', '\b', '\f', '\v', '\u007f',
  'é', 'ß', '€', '😀', '𝕏', '\u2028', '\u2029', '\u200b', '\u202e', '\ufeff', '\ufffd', 'ʼ', '＇', '‘', '’',
  'alice@example.com', 'SELECT', ' WHERE ', 'null', 'NULL', '\\N', '\\n', '\\t', '\\\\x00',
];

/** One hostile string: 1-8 fragments, random control/unicode characters mixed in. */
export function hostileString(rand: () => number): string {
  const parts: string[] = [];
  const count = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < count; i++) {
    const pick = rand();
    if (pick < 0.6) parts.push(FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]!);
    else if (pick < 0.75) parts.push(String.fromCharCode(Math.floor(rand() * 0x20)));
    else if (pick < 0.9) parts.push(String.fromCodePoint(randomScalar(rand)));
    else parts.push(String.fromCharCode(0x20 + Math.floor(rand() * 0x5f)));
  }
  return parts.join('');
}

/** Random bytes, usually not valid UTF-8. */
export function hostileBytes(rand: () => number): Uint8Array {
  const out = new Uint8Array(Math.floor(rand() * 24));
  for (let i = 0; i < out.length; i++) {
    out[i] = rand() < 0.3 ? [0x27, 0x5c, 0x00, 0x0a, 0xff, 0xc0, 0x80][Math.floor(rand() * 7)]! : Math.floor(rand() * 256);
  }
  return out;
}

/** A Unicode scalar value (never a surrogate), biased to the BMP. */
function randomScalar(rand: () => number): number {
  for (;;) {
    const cp = rand() < 0.8 ? Math.floor(rand() * 0x10000) : 0x10000 + Math.floor(rand() * 0x100000);
    if (cp < 0xd800 || cp > 0xdfff) return cp;
  }
}
