import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compileFilter, parseFilter, type FilterError } from '../src/index.js';

const order = { id: 7, status: 'paid', amount: 120.5, vip: true, customer: { country: 'NL', name: "O'Brien" }, note: null };

describe('filters', () => {
  test.each([
    ["status = 'paid'", true],
    ["status <> 'paid'", false],
    ["status != 'open'", true],
    ['amount > 100 AND amount <= 120.5', true],
    ['amount < 100 OR vip = TRUE', true],
    ['NOT vip', 'error'],
    ['NOT (vip = true)', false],
    ["customer.country IN ('NL', 'BE')", true],
    ["customer.country NOT IN ('NL', 'BE')", false],
    ["customer.name = 'O''Brien'", true],
    ['note IS NULL', true],
    ['missing IS NULL', true],
    ['customer IS NOT NULL', true],
    ['missing = 1', false],
    ['NOT (missing = 1)', false], // unknown stays unknown
    ['missing = 1 OR id = 7', true],
    ["id = '7'", false], // no coercion
    ["status > 5", false],
    ['customer.country.code = 1', false],
    ['id >= -3 AND id < 1e3', true],
    ["(status = 'paid' OR status = 'open') AND (amount > 1000 OR customer.country = 'NL')", true],
    ['toString = 1', false], // no prototype lookups
    ['customer.constructor IS NULL', true],
  ] as const)('%s -> %s', (text, expected) => {
    if (expected === 'error') {
      expect(() => compileFilter(text)).toThrow(expect.objectContaining({ code: 'SNOOPY_HTTP_FILTER' }));
      return;
    }
    expect(compileFilter(text)(order)).toBe(expected);
  });

  test.each([
    ["status = 'paid'; DROP TABLE x", 15, 'Unexpected ";"'],
    ['status = ', 9, 'Expected a field, a literal or a parameter, got the end'],
    ["status == 'x'", 8, 'Expected a field'],
    ['status LIKE 1', 7, 'Expected a comparison'],
    ["status = 'x' --", 13, 'Unexpected "-"'],
    ['amount = 1 /* */', 11, 'Unexpected "/"'],
    ['(id = 1', 7, 'Expected `)`'],
    ['id IN (status)', 7, 'Expected a literal or a parameter'],
    ["id = 'open", 5, 'Unterminated string'],
    ['id = 1 AND', 10, 'got the end'],
    ['id = 1 status = 2', 7, 'Expected AND, OR or the end'],
    ['eval(1) = 1', 4, 'Expected a comparison'],
    ['id IS 1', 6, 'Expected NULL'],
    ['id = 1x', 5, 'Unexpected'],
    ['id = :', 5, 'parameter name'],
    ['', 0, 'Empty filter'],
  ])('refuses %j at position %i', (text, position, message) => {
    let error: FilterError | undefined;
    try {
      parseFilter(text);
    } catch (e) {
      error = e as FilterError;
    }
    expect(error?.code).toBe('SNOOPY_HTTP_FILTER');
    expect(error?.position).toBe(position);
    expect(error?.message).toContain(message);
  });

  test('nesting deeper than 32 is refused', () => {
    expect(() => parseFilter('NOT '.repeat(40) + 'id = 1')).toThrow(/Nested deeper than 32/);
    expect(() => parseFilter('('.repeat(40) + 'id = 1' + ')'.repeat(40))).toThrow(/Nested deeper than 32/);
  });

  test('parameters are bound as values: injection attempts are just strings', () => {
    const f = compileFilter('customer.country = :country', { country: "NL' OR '1'='1" });
    expect(f(order)).toBe(false);
    expect(f({ customer: { country: "NL' OR '1'='1" } })).toBe(true);
    expect(compileFilter('status IN (:a, :b)', { a: 'x', b: 'paid' })(order)).toBe(true);
    expect(() => compileFilter('id = :id', {})).toThrow(expect.objectContaining({ code: 'SNOOPY_HTTP_FILTER', position: 5 }));
    expect(() => compileFilter('id = :id', { id: { $gt: 1 } })).toThrow(/must be a string, a finite number, a boolean or null/);
    expect(() => compileFilter('id = :id', { id: [1, 2] })).toThrow(/must be a string/);
  });

  // Property: for random filters (rendered to text and parsed) and random records, the compiled
  // evaluator agrees with a reference evaluation of the generated tree (SQL three-valued logic).
  type Val = string | number | boolean | null | undefined;
  type Ast =
    | { k: 'cmp'; op: string; field: string; lit: Val }
    | { k: 'in'; field: string; list: Val[]; neg: boolean }
    | { k: 'null'; field: string; neg: boolean }
    | { k: 'and' | 'or'; l: Ast; r: Ast }
    | { k: 'not'; a: Ast };
  const fields = ['a', 'b', 'c.d'];
  const lit = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', "it's", ''), fc.boolean(), fc.constant(null));
  const ast: fc.Arbitrary<Ast> = fc.letrec<{ node: Ast }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ k: fc.constant('cmp' as const), op: fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>='), field: fc.constantFrom(...fields), lit }),
      fc.record({ k: fc.constant('in' as const), field: fc.constantFrom(...fields), list: fc.array(lit, { minLength: 1, maxLength: 3 }), neg: fc.boolean() }),
      fc.record({ k: fc.constant('null' as const), field: fc.constantFrom(...fields), neg: fc.boolean() }),
      fc.record({ k: fc.constantFrom('and' as const, 'or' as const), l: tie('node'), r: tie('node') }),
      fc.record({ k: fc.constant('not' as const), a: tie('node') }),
    ),
  })).node;
  const render = (v: Val): string => (typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : v === null ? 'NULL' : String(v).toUpperCase());
  const text = (n: Ast): string => {
    switch (n.k) {
      case 'cmp': return `${n.field} ${n.op} ${render(n.lit)}`;
      case 'in': return `${n.field} ${n.neg ? 'NOT ' : ''}IN (${n.list.map(render).join(', ')})`;
      case 'null': return `${n.field} IS ${n.neg ? 'NOT ' : ''}NULL`;
      case 'not': return `NOT (${text(n.a)})`;
      default: return `(${text(n.l)}) ${n.k.toUpperCase()} (${text(n.r)})`;
    }
  };
  const get = (rec: Record<string, unknown>, f: string): Val => {
    if (f === 'c.d') {
      const c = rec.c as Record<string, Val> | undefined;
      return c && typeof c === 'object' ? c.d : undefined;
    }
    return rec[f] as Val;
  };
  const eq = (x: Val, y: Val): boolean | null => (x == null || y == null ? null : x === y);
  const ref = (n: Ast, rec: Record<string, unknown>): boolean | null => {
    switch (n.k) {
      case 'cmp': {
        const x = get(rec, n.field);
        const y = n.lit;
        if (x == null || y == null) return null;
        if (n.op === '=') return x === y;
        if (n.op === '!=' || n.op === '<>') return x !== y;
        if (typeof x !== typeof y || typeof x === 'boolean') return false;
        const [p, q] = [x as number, y as number];
        return n.op === '<' ? p < q : n.op === '<=' ? p <= q : n.op === '>' ? p > q : p >= q;
      }
      case 'in': {
        const x = get(rec, n.field);
        const rs = n.list.map((y) => eq(x, y));
        const r = x == null ? null : rs.includes(true) ? true : rs.includes(null) ? null : false;
        return n.neg ? (r === null ? null : !r) : r;
      }
      case 'null': {
        const isNull = get(rec, n.field) == null;
        return n.neg ? !isNull : isNull;
      }
      case 'not': {
        const r = ref(n.a, rec);
        return r === null ? null : !r;
      }
      case 'and': {
        const [l, r] = [ref(n.l, rec), ref(n.r, rec)];
        return l === false || r === false ? false : l === null || r === null ? null : true;
      }
      case 'or': {
        const [l, r] = [ref(n.l, rec), ref(n.r, rec)];
        return l === true || r === true ? true : l === null || r === null ? null : false;
      }
    }
  };
  const value = fc.option(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', "it's", ''), fc.boolean()), { nil: undefined, freq: 4 });
  const record = fc.record({ a: value, b: fc.oneof(value, fc.constant(null)), c: fc.oneof(fc.constant(undefined), fc.record({ d: value })) });

  test('property: the evaluator agrees with a reference evaluation on random records', () => {
    fc.assert(
      fc.property(ast, fc.array(record, { minLength: 1, maxLength: 8 }), (tree, records) => {
        const f = compileFilter(text(tree));
        for (const rec of records) expect(f(rec), `${text(tree)} on ${JSON.stringify(rec)}`).toBe(ref(tree, rec) === true);
      }),
      { numRuns: 500 },
    );
  });
});
