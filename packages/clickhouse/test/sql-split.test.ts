import { describe, expect, it } from 'vitest';
import { splitStatements } from '#clickhouse';

describe('splitStatements', () => {
  it('splits at semicolons outside strings, quoted identifiers and comments', () => {
    const sql = [
      '-- header; with a semicolon',
      "CREATE TABLE a (x String DEFAULT 'a;b') ENGINE = MergeTree ORDER BY x;",
      '/* block; comment */ CREATE VIEW v AS SELECT `we;ird` FROM a;',
      'SELECT \'it\'\'s; fine\', "col;umn", \'esc\\\'; aped\' FROM a',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE a (x String DEFAULT 'a;b') ENGINE = MergeTree ORDER BY x",
      'CREATE VIEW v AS SELECT `we;ird` FROM a',
      'SELECT \'it\'\'s; fine\', "col;umn", \'esc\\\'; aped\' FROM a',
    ]);
  });

  it('drops pieces that hold only comments or whitespace', () => {
    expect(splitStatements('-- only a comment\n;\n  ;\n/* x */;SELECT 1;\n-- trailing')).toEqual(['SELECT 1']);
  });

  it('keeps inline comments out of the statement text', () => {
    expect(splitStatements('SELECT 1 -- one\n, 2; -- two')).toEqual(['SELECT 1 \n, 2']);
  });

  it('refuses unterminated strings and comments', () => {
    expect(() => splitStatements("SELECT 'open")).toThrow(/unterminated ' quote/);
    expect(() => splitStatements('SELECT 1 /* open')).toThrow(/unterminated \/\* comment/);
  });
});
