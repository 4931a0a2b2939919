import { HttpError } from './errors.js';

/**
 * A safe subset of SQL's WHERE for filtering JSON values: `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`,
 * `IN (...)`, `IS [NOT] NULL`, `AND`, `OR`, `NOT`, parentheses, string ('it''s'), number and
 * boolean literals, `NULL`, `:name` parameters (bound as values, never as syntax) and dotted field
 * paths into the value (`customer.country`). Parsed once by an allowlist grammar into an AST and
 * evaluated per message with SQL's three-valued logic: a comparison with a missing or null field
 * is unknown, and only a filter that is true lets a message through.
 */
export type Scalar = string | number | boolean | null;

export type FilterNode =
  | { readonly type: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly type: 'not'; readonly operand: FilterNode }
  | { readonly type: 'cmp'; readonly op: '=' | '!=' | '<' | '<=' | '>' | '>='; readonly left: Operand; readonly right: Operand }
  | { readonly type: 'in'; readonly operand: Operand; readonly list: readonly Operand[] }
  | { readonly type: 'null'; readonly operand: Operand; readonly negated: boolean };

export type Operand =
  | { readonly type: 'field'; readonly path: readonly string[] }
  | { readonly type: 'literal'; readonly value: Scalar }
  | { readonly type: 'param'; readonly name: string };

/** A filter outside the subset, with the 0-based position of the offending token. */
export class FilterError extends HttpError {
  override name = 'FilterError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super('SNOOPY_HTTP_FILTER', `${message} at position ${position}`);
  }
}

interface Token {
  readonly kind: 'ident' | 'string' | 'number' | 'param' | 'op' | 'punct' | 'end';
  readonly text: string;
  readonly value?: Scalar;
  readonly pos: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE']);
const MAX_LENGTH = 4096;
const MAX_DEPTH = 32;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), pos: start });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      i += m[0].length;
      if (/[A-Za-z0-9_.]/.test(text[i] ?? '')) throw new FilterError(`Unexpected ${JSON.stringify(text.slice(start, i + 1))}`, start);
      tokens.push({ kind: 'number', text: m[0], value: Number(m[0]), pos: start });
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterError('Unterminated string', start);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'string', text: text.slice(start, i), value, pos: start });
    } else if (c === ':') {
      i++;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      if (i === start + 1 || !/[A-Za-z_]/.test(text[start + 1]!)) throw new FilterError('Expected a parameter name after `:`', start);
      tokens.push({ kind: 'param', text: text.slice(start + 1, i), pos: start });
    } else if (c === '<' || c === '>' || c === '!' || c === '=') {
      const two = text.slice(i, i + 2);
      if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
        tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, pos: start });
        i += 2;
      } else if (c === '!') {
        throw new FilterError('Unexpected `!`', start);
      } else {
        tokens.push({ kind: 'op', text: c, pos: start });
        i++;
      }
    } else if (c === '(' || c === ')' || c === ',' || c === '.') {
      tokens.push({ kind: 'punct', text: c, pos: start });
      i++;
    } else {
      throw new FilterError(`Unexpected ${JSON.stringify(c)}`, start);
    }
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

class Parser {
  private at = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at]!;
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    if (t.kind === 'ident' && t.text.toUpperCase() === word) {
      this.at++;
      return true;
    }
    return false;
  }

  private punct(p: string): boolean {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === p) {
      this.at++;
      return true;
    }
    return false;
  }

  private unexpected(expected: string): never {
    const t = this.peek();
    throw new FilterError(`Expected ${expected}, got ${t.kind === 'end' ? 'the end' : `\`${t.text}\``}`, t.pos);
  }

  parse(): FilterNode {
    const node = this.or();
    if (this.peek().kind !== 'end') this.unexpected('AND, OR or the end');
    return node;
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.keyword('OR')) left = { type: 'or', left, right: this.and() };
    return left;
  }

  private and(): FilterNode {
    let left = this.not();
    while (this.keyword('AND')) left = { type: 'and', left, right: this.not() };
    return left;
  }

  private not(): FilterNode {
    if (++this.depth > MAX_DEPTH) throw new FilterError(`Nested deeper than ${MAX_DEPTH}`, this.peek().pos);
    try {
      if (this.keyword('NOT')) return { type: 'not', operand: this.not() };
      return this.predicate();
    } finally {
      this.depth--;
    }
  }

  private predicate(): FilterNode {
    if (this.punct('(')) {
      const inner = this.or();
      if (!this.punct(')')) this.unexpected('`)`');
      return inner;
    }
    const left = this.operand();
    const t = this.peek();
    if (t.kind === 'op') {
      this.at++;
      return { type: 'cmp', op: t.text as '=', left, right: this.operand() };
    }
    if (this.keyword('IS')) {
      const negated = this.keyword('NOT');
      if (!this.keyword('NULL')) this.unexpected('NULL');
      return { type: 'null', operand: left, negated };
    }
    const negated = this.keyword('NOT');
    if (this.keyword('IN')) {
      if (!this.punct('(')) this.unexpected('`(`');
      const list: Operand[] = [];
      do {
        const item = this.operand();
        if (item.type === 'field') throw new FilterError('Expected a literal or a parameter in IN (...)', this.tokens[this.at - 1]!.pos);
        list.push(item);
      } while (this.punct(','));
      if (!this.punct(')')) this.unexpected('`,` or `)`');
      const node: FilterNode = { type: 'in', operand: left, list };
      return negated ? { type: 'not', operand: node } : node;
    }
    return this.unexpected(negated ? 'IN' : 'a comparison, IN or IS [NOT] NULL');
  }

  private operand(): Operand {
    const t = this.peek();
    if (t.kind === 'string' || t.kind === 'number') {
      this.at++;
      return { type: 'literal', value: t.value! };
    }
    if (t.kind === 'param') {
      this.at++;
      return { type: 'param', name: t.text };
    }
    if (t.kind === 'ident') {
      const upper = t.text.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE') {
        this.at++;
        return { type: 'literal', value: upper === 'TRUE' };
      }
      if (upper === 'NULL') {
        this.at++;
        return { type: 'literal', value: null };
      }
      if (KEYWORDS.has(upper)) this.unexpected('a field, a literal or a parameter');
      this.at++;
      const path = [t.text];
      while (this.punct('.')) {
        const part = this.peek();
        if (part.kind !== 'ident') this.unexpected('a field name after `.`');
        this.at++;
        path.push(part.text);
      }
      return { type: 'field', path };
    }
    return this.unexpected('a field, a literal or a parameter');
  }
}

/** Parses `text` into an AST; throws `FilterError` (`SNOOPY_HTTP_FILTER`) with the offending position. */
export function parseFilter(text: string): FilterNode {
  if (typeof text !== 'string') throw new FilterError('Expected a filter string', 0);
  if (text.length > MAX_LENGTH) throw new FilterError(`Longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  if (text.trim() === '') throw new FilterError('Empty filter', 0);
  return new Parser(tokenize(text)).parse();
}

/** The `:name` parameters a filter uses. */
export function filterParams(node: FilterNode): Set<string> {
  const names = new Set<string>();
  const op = (o: Operand): void => void (o.type === 'param' && names.add(o.name));
  const walk = (n: FilterNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        walk(n.left);
        walk(n.right);
        return;
      case 'not':
        return walk(n.operand);
      case 'cmp':
        op(n.left);
        op(n.right);
        return;
      case 'in':
        op(n.operand);
        n.list.forEach(op);
        return;
      case 'null':
        op(n.operand);
    }
  };
  walk(node);
  return names;
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function fieldValue(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** true, false, or null for unknown. */
type Truth = boolean | null;

function compare(op: string, a: unknown, b: unknown): Truth {
  if (a === undefined || a === null || b === undefined || b === null) return null;
  if (!isScalar(a) || !isScalar(b)) return op === '!=' ? true : false;
  if (op === '=') return a === b;
  if (op === '!=') return a !== b;
  if (typeof a !== typeof b || typeof a === 'boolean') return false;
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

/** A compiled filter: true when `value` passes. */
export type Predicate = (value: unknown) => boolean;

/**
 * Parses `text` and binds `params` (each a string, number, boolean or null, used as a value only).
 * Throws `FilterError` for syntax outside the subset and for a parameter that is missing or not a
 * scalar.
 */
export function compileFilter(text: string, params: Readonly<Record<string, unknown>> = {}): Predicate {
  const ast = parseFilter(text);
  for (const name of filterParams(ast)) {
    if (!Object.hasOwn(params, name)) throw new FilterError(`Parameter :${name} has no value`, text.indexOf(`:${name}`));
    if (!isScalar(params[name])) throw new FilterError(`Parameter :${name} must be a string, a finite number, a boolean or null`, text.indexOf(`:${name}`));
  }
  const operand = (o: Operand, value: unknown): unknown =>
    o.type === 'field' ? fieldValue(value, o.path) : o.type === 'literal' ? o.value : params[o.name];
  const evaluate = (n: FilterNode, value: unknown): Truth => {
    switch (n.type) {
      case 'and': {
        const l = evaluate(n.left, value);
        if (l === false) return false;
        const r = evaluate(n.right, value);
        return r === false ? false : l === null || r === null ? null : true;
      }
      case 'or': {
        const l = evaluate(n.left, value);
        if (l === true) return true;
        const r = evaluate(n.right, value);
        return r === true ? true : l === null || r === null ? null : false;
      }
      case 'not': {
        const v = evaluate(n.operand, value);
        return v === null ? null : !v;
      }
      case 'cmp':
        return compare(n.op, operand(n.left, value), operand(n.right, value));
      case 'in': {
        const v = operand(n.operand, value);
        if (v === undefined || v === null) return null;
        let unknown = false;
        for (const item of n.list) {
          const t = compare('=', v, operand(item, value));
          if (t === true) return true;
          if (t === null) unknown = true;
        }
        return unknown ? null : false;
      }
      case 'null': {
        const v = operand(n.operand, value);
        const isNull = v === undefined || v === null;
        return n.negated ? !isNull : isNull;
      }
    }
  };
  return (value) => evaluate(ast, value) === true;
}
