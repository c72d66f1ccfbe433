// SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2): a tokenizer and
// a recursive-descent parser to a small AST, and nothing else. Precedence is
// the RFC's: not binds tighter than and, and tighter than or; parentheses
// group. Attribute names are case-insensitive and may carry a schema URN
// prefix. What clients really send is accepted beside the grammar: Entra's
// `emails[type eq "work"].value eq "…"` (a value path with a sub-attribute
// in a filter) and a bare token as a value (`externalId eq jyoung`).
// Pure: text in, an AST or a ScimError (400 invalidFilter / invalidPath) out.
import { badRequest, type ScimType } from './scim-error.ts';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Scalar = string | number | boolean | null;

/** An attribute as named: `urn:…:User:manager.value` is urn + attr 'manager' + sub 'value'. */
export interface AttrPath {
  /** The schema URN prefix, lower-cased; null when not qualified. */
  urn: string | null;
  attr: string;
  sub: string | null;
}

export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Scalar }
  | { kind: 'present'; path: AttrPath }
  /** `emails[type eq "work"]`, optionally followed by `.value eq "…"` (or `.value pr`). */
  | { kind: 'valuePath'; path: AttrPath; filter: Filter; then: { sub: string; test: { op: CompareOp; value: Scalar } | 'pr' } | null };

/** A PATCH target: an attribute, optionally narrowed to the elements a filter selects, optionally a sub-attribute of them. */
export interface PatchPath {
  path: AttrPath;
  filter: Filter | null;
  /** Sub-attribute after a value filter (`emails[type eq "work"].value`). */
  sub: string | null;
}

/** Longest filter or path read: a client never needs more; a hostile one gets a 400, not a slow parse. */
export const MAX_FILTER_CHARS = 4_096;
/** Deepest nesting of not/parentheses/value filters: recursion stays bounded. */
export const MAX_FILTER_DEPTH = 32;

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

type Token =
  | { t: 'word'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: '(' | ')' | '[' | ']'; at: number }
  | { t: 'end'; at: number };

/** Names, URNs, keywords, bare values: letters, digits and the punctuation URNs and dotted paths use. */
const WORD = /[A-Za-z0-9_$:.\-+@]/;

function tokenize(text: string, scimType: ScimType): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      const start = i;
      i++;
      let escaped = false;
      while (i < text.length && (escaped || text[i] !== '"')) {
        escaped = !escaped && text[i] === '\\';
        i++;
      }
      if (i >= text.length) throw badRequest(scimType, `unterminated string at ${start}`);
      i++;
      let value: unknown;
      try {
        value = JSON.parse(text.slice(start, i));
      } catch {
        throw badRequest(scimType, `bad string escape at ${start}`);
      }
      tokens.push({ t: 'string', v: value as string, at: start });
    } else if (WORD.test(c)) {
      const start = i;
      while (i < text.length && WORD.test(text[i]!)) i++;
      const word = text.slice(start, i);
      if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(word)) tokens.push({ t: 'number', v: Number(word), at: start });
      else tokens.push({ t: 'word', v: word, at: start });
    } else {
      throw badRequest(scimType, `unexpected character ${JSON.stringify(c)} at ${i}`);
    }
  }
  tokens.push({ t: 'end', at: text.length });
  return tokens;
}

class Parser {
  #pos = 0;
  #depth = 0;
  readonly tokens: Token[];
  readonly scimType: ScimType;

  constructor(tokens: Token[], scimType: ScimType) {
    this.tokens = tokens;
    this.scimType = scimType;
  }

  peek(): Token {
    return this.tokens[this.#pos]!;
  }

  next(): Token {
    return this.tokens[this.#pos++]!;
  }

  fail(detail: string): never {
    throw badRequest(this.scimType, detail);
  }

  keyword(token: Token, ...words: string[]): boolean {
    return token.t === 'word' && words.includes(token.v.toLowerCase());
  }

  expect(t: Token['t'], what: string): Token {
    const token = this.next();
    if (token.t !== t) this.fail(`expected ${what} at ${token.at}`);
    return token;
  }

  nest<T>(inner: () => T): T {
    if (++this.#depth > MAX_FILTER_DEPTH) this.fail(`filter nested deeper than ${MAX_FILTER_DEPTH}`);
    try {
      return inner();
    } finally {
      this.#depth--;
    }
  }

  // or-expression := and-expression ("or" and-expression)*
  orExpr(): Filter {
    let left = this.andExpr();
    while (this.keyword(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  // and-expression := unary ("and" unary)*
  andExpr(): Filter {
    let left = this.unary();
    while (this.keyword(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  // unary := "not" "(" or ")" | "(" or ")" | attribute-expression
  unary(): Filter {
    const token = this.peek();
    if (this.keyword(token, 'not') && this.tokens[this.#pos + 1]?.t === '(') {
      this.next();
      return { kind: 'not', filter: this.group() };
    }
    if (token.t === '(') return this.group();
    return this.attrExpr();
  }

  group(): Filter {
    this.expect('(', '"("');
    const inner = this.nest(() => this.orExpr());
    this.expect(')', '")"');
    return inner;
  }

  attrExpr(): Filter {
    const token = this.next();
    if (token.t !== 'word') this.fail(`expected an attribute at ${token.at}`);
    const path = attrPath(token.v, this.scimType);
    if (this.peek().t === '[') {
      if (path.sub !== null) this.fail(`a value filter cannot follow a sub-attribute (${token.v}) at ${token.at}`);
      this.next();
      const filter = this.nest(() => this.orExpr());
      this.expect(']', '"]"');
      const after = this.peek();
      if (after.t === 'word' && after.v.startsWith('.')) {
        this.next();
        const sub = after.v.slice(1);
        if (!/^[A-Za-z$][\w$-]*$/.test(sub)) this.fail(`bad sub-attribute ${JSON.stringify(after.v)} at ${after.at}`);
        return { kind: 'valuePath', path, filter, then: { sub, test: this.test() } };
      }
      return { kind: 'valuePath', path, filter, then: null };
    }
    const test = this.test();
    return test === 'pr' ? { kind: 'present', path } : { kind: 'compare', path, ...test };
  }

  test(): { op: CompareOp; value: Scalar } | 'pr' {
    const opToken = this.next();
    if (this.keyword(opToken, 'pr')) return 'pr';
    if (opToken.t !== 'word' || !COMPARE_OPS.has(opToken.v.toLowerCase())) this.fail(`expected an operator (eq ne co sw ew gt ge lt le pr) at ${opToken.at}`);
    return { op: opToken.v.toLowerCase() as CompareOp, value: this.value() };
  }

  value(): Scalar {
    const token = this.next();
    if (token.t === 'string' || token.t === 'number') return token.v;
    if (token.t === 'word') {
      const lower = token.v.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      if (lower === 'null') return null;
      // Entra's documentation shows `externalId eq jyoung`: a bare token is the string it spells.
      if (lower !== 'and' && lower !== 'or' && lower !== 'not') return token.v;
    }
    return this.fail(`expected a value at ${token.at}`);
  }

  end(): void {
    const token = this.peek();
    if (token.t !== 'end') this.fail(`unexpected ${token.t === 'word' || token.t === 'string' ? JSON.stringify(token.v) : token.t} at ${token.at}`);
  }
}

/** `name.familyName`, `urn:…:enterprise:2.0:User:department`, `urn:…:User:manager.value`. */
function attrPath(text: string, scimType: ScimType): AttrPath {
  const colon = text.lastIndexOf(':');
  const urn = colon >= 0 ? text.slice(0, colon).toLowerCase() : null;
  if (urn !== null && !urn.startsWith('urn:')) throw badRequest(scimType, `${JSON.stringify(text)} is not an attribute path`);
  const rest = text.slice(colon + 1);
  const parts = rest.split('.');
  const ok = parts.length <= 2 && parts.every((p) => /^[A-Za-z$][\w$-]*$/.test(p));
  if (!ok) throw badRequest(scimType, `${JSON.stringify(text)} is not an attribute path`);
  return { urn, attr: parts[0]!, sub: parts[1] ?? null };
}

function checkLength(text: string, scimType: ScimType, what: string): void {
  if (text.length > MAX_FILTER_CHARS) throw badRequest(scimType, `${what} is ${text.length} characters long; at most ${MAX_FILTER_CHARS} are read`);
  if (text.trim() === '') throw badRequest(scimType, `${what} is empty`);
}

export function parseFilter(text: string): Filter {
  checkLength(text, 'invalidFilter', 'filter');
  const parser = new Parser(tokenize(text, 'invalidFilter'), 'invalidFilter');
  const filter = parser.orExpr();
  parser.end();
  return filter;
}

/** A PATCH `path`: attrPath, or attrPath "[" valFilter "]" with an optional ".subAttr". */
export function parsePatchPath(text: string): PatchPath {
  checkLength(text, 'invalidPath', 'path');
  const parser = new Parser(tokenize(text, 'invalidPath'), 'invalidPath');
  const token = parser.next();
  if (token.t !== 'word') return parser.fail(`expected an attribute at ${token.at}`);
  const path = attrPath(token.v, 'invalidPath');
  let filter: Filter | null = null;
  let sub: string | null = null;
  if (parser.peek().t === '[') {
    if (path.sub !== null) parser.fail('a value filter cannot follow a sub-attribute');
    parser.next();
    // Errors inside the brackets are the filter's, but the client sent a path: invalidPath says which field to fix.
    filter = parser.nest(() => parser.orExpr());
    parser.expect(']', '"]"');
    const after = parser.peek();
    if (after.t === 'word' && after.v.startsWith('.')) {
      parser.next();
      sub = after.v.slice(1);
      if (!/^[A-Za-z$][\w$-]*$/.test(sub)) parser.fail(`bad sub-attribute ${JSON.stringify(after.v)}`);
    }
  }
  parser.end();
  return { path, filter, sub };
}
