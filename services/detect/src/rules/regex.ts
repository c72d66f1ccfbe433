// Regular expressions from rule files, checked before they are compiled.
// V8's engine backtracks, so a pattern like (a+)+ on a long hostile value
// can hang the whole service (ReDoS). Without a linear engine to hand, the
// guard is conservative: a length bound, no backreferences or lookbehind,
// and no quantified group that itself holds a quantifier or an alternation
// (the shapes behind catastrophic backtracking). Values a regex is tested
// against are cut to MAX_SUBJECT_CHARS.

export const MAX_PATTERN_CHARS = 512;
/** Values longer than this are tested on their first MAX_SUBJECT_CHARS characters. */
export const MAX_SUBJECT_CHARS = 4_096;

export type RegexResult = { ok: true; regex: RegExp } | { ok: false; reason: string };

export function compileRegex(pattern: string, ignoreCase: boolean): RegexResult {
  if (pattern.length > MAX_PATTERN_CHARS) return { ok: false, reason: `the pattern is ${pattern.length} characters, over the ${MAX_PATTERN_CHARS} allowed` };
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, ignoreCase ? 'iu' : 'u');
  } catch (err) {
    return { ok: false, reason: `not a valid regular expression: ${(err as Error).message}` };
  }
  const risk = backtrackingRisk(pattern);
  if (risk) return { ok: false, reason: `refused: ${risk} can backtrack catastrophically on a hostile value; rewrite it without nesting` };
  return { ok: true, regex };
}

/** Why the pattern may backtrack exponentially, or null. Scans groups with a stack. */
export function backtrackingRisk(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return 'a backreference';
  if (/\(\?<[=!]/.test(pattern)) return 'a lookbehind';
  // Per open group: whether it holds a quantifier or an alternation.
  const stack: Array<{ quantified: boolean; alternation: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '(') stack.push({ quantified: false, alternation: false });
    else if (ch === '|' && stack.length > 0) stack.at(-1)!.alternation = true;
    else if (ch === ')') {
      const group = stack.pop();
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}|^\{\d{2,}\}/.test(pattern.slice(i + 1)));
      if (group && repeated && group.quantified) return 'a repeated group holding a quantifier, like (a+)+,';
      if (group && repeated && group.alternation) return 'a repeated alternation, like (a|ab)*,';
      // The enclosing group holds whatever this one held, and this one's own repetition.
      if (group && stack.length > 0) stack.at(-1)!.quantified ||= group.quantified || repeated || next === '?';
    } else if ((ch === '*' || ch === '+' || ch === '{') && stack.length > 0) {
      stack.at(-1)!.quantified = true;
    }
  }
  return null;
}
