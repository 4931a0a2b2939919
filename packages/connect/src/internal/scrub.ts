/** Replaces secret values by `[secret]` in text, log fields and errors. */
export class Scrubber {
  constructor(private readonly secrets: readonly string[]) {}

  text(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[secret]');
    return out;
  }

  fields(fields: Record<string, unknown>): Record<string, unknown> {
    if (this.secrets.length === 0) return fields;
    const plain = JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : typeof value === 'bigint' ? String(value) : value,
    );
    return JSON.parse(this.text(plain)) as Record<string, unknown>;
  }

  /** The error itself when it holds no secret; otherwise a copy with every secret replaced. */
  error(error: unknown): unknown {
    if (this.secrets.length === 0) return error;
    if (!(error instanceof Error)) return typeof error === 'string' ? this.text(error) : error;
    const texts = [error.message, error.stack ?? '', String((error as { cause?: unknown }).cause ?? '')];
    if (!texts.some((t) => this.secrets.some((s) => t.includes(s)))) return error;
    const copy = new Error(this.text(error.message));
    copy.name = error.name;
    copy.stack = this.text(error.stack ?? '');
    const e = error as { code?: unknown; retriable?: unknown };
    if (e.code !== undefined) (copy as { code?: unknown }).code = e.code;
    if (e.retriable !== undefined) (copy as { retriable?: unknown }).retriable = e.retriable;
    return copy;
  }
}
