import { UsageError } from '../command.js';

/** What `--where` sees of a message. */
export interface Record {
  readonly key: unknown;
  readonly value: unknown;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number | undefined;
  readonly headers: Readonly<globalThis.Record<string, string>>;
}

const operators = ['!=', '>=', '<=', '=', '>', '<', '~'] as const;
type Operator = (typeof operators)[number];
const meta = new Set(['key', 'value', 'partition', 'offset', 'timestamp', 'headers']);

function lookup(record: Record, path: readonly string[]): unknown {
  let at: unknown = meta.has(path[0]!) ? record : record.value;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as globalThis.Record<string, unknown>)[part];
  }
  return at;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
}

/**
 * Compiles `--where` filters (all must hold): `path<op>literal` with `=`, `!=`, `>`, `>=`, `<`,
 * `<=` and `~` (a regular expression). A path is `key`, `partition`, `offset`, `timestamp`,
 * `headers.<name>`, `value` or `value.<field>...`; any other path is a field of the value
 * (`id=3` is `value.id=3`). `>`/`<` compare numbers when both sides are numbers, else text.
 */
export function compileWhere(filters: readonly string[]): (record: Record) => boolean {
  const tests = filters.map((filter) => {
    let op: Operator | undefined;
    let at = -1;
    for (let i = 0; i < filter.length && op === undefined; i++) {
      op = operators.find((o) => filter.startsWith(o, i));
      at = i;
    }
    if (op === undefined || at <= 0) {
      throw new UsageError(`Expected \`--where\` to be <path><op><value> with op one of ${operators.join(' ')}, got \`${filter}\``);
    }
    const path = filter.slice(0, at).trim().split('.');
    const literal = filter.slice(at + op.length).trim();
    let pattern: RegExp | undefined;
    if (op === '~') {
      try {
        pattern = new RegExp(literal);
      } catch (err) {
        throw new UsageError(`\`--where ${filter}\`: ${(err as Error).message}`);
      }
    }
    const wanted = Number(literal);
    return (record: Record): boolean => {
      const found = lookup(record, path);
      if (found === undefined) return op === '!=';
      const got = text(found);
      const numeric = literal !== '' && Number.isFinite(wanted) && typeof found !== 'boolean' && Number.isFinite(Number(found)) && got !== '';
      switch (op) {
        case '=': return numeric ? Number(found) === wanted : got === literal;
        case '!=': return numeric ? Number(found) !== wanted : got !== literal;
        case '>': return numeric ? Number(found) > wanted : got > literal;
        case '>=': return numeric ? Number(found) >= wanted : got >= literal;
        case '<': return numeric ? Number(found) < wanted : got < literal;
        case '<=': return numeric ? Number(found) <= wanted : got <= literal;
        case '~': return pattern!.test(got);
      }
    };
  });
  return (record) => tests.every((t) => t(record));
}
