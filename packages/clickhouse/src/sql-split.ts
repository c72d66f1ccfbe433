// Splits a migration file into statements: the HTTP interface runs one
// statement per request. A ';' inside a string, a quoted identifier or a
// comment does not end a statement; comment-only pieces are dropped.

export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let hasCode = false;
  let i = 0;
  const push = () => {
    if (hasCode) statements.push(current.trim());
    current = '';
    hasCode = false;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
      current += '\n';
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw new Error(`unterminated /* comment at offset ${i}`);
      i = end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(sql, i);
      current += sql.slice(i, end + 1);
      hasCode = true;
      i = end + 1;
      continue;
    }
    if (ch === ';') {
      push();
      i += 1;
      continue;
    }
    current += ch;
    if (!/\s/.test(ch)) hasCode = true;
    i += 1;
  }
  push();
  return statements;
}

/** Index of the quote closing the one at `start`; backslash escapes and doubled quotes stay inside. */
function closingQuote(sql: string, start: number): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i += 1) {
    const ch = sql[i];
    if (ch === '\\') {
      i += 1;
    } else if (ch === quote) {
      if (sql[i + 1] === quote) i += 1;
      else return i;
    }
  }
  throw new Error(`unterminated ${quote} quote at offset ${start}`);
}
