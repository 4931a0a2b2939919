/** @internal Counters and gauges in the Prometheus text format. */
export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #gauges = new Map<string, { help: string; read: () => Array<[Record<string, string>, number]> }>();

  count(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    let c = this.#counters.get(name);
    if (!c) this.#counters.set(name, (c = { help, values: new Map() }));
    const key = labelText(labels);
    c.values.set(key, (c.values.get(key) ?? 0) + by);
  }

  gauge(name: string, help: string, read: () => Array<[Record<string, string>, number]>): void {
    this.#gauges.set(name, { help, read });
  }

  text(): string {
    let out = '';
    for (const [name, c] of this.#counters) {
      out += `# HELP ${name} ${c.help}\n# TYPE ${name} counter\n`;
      for (const [labels, v] of c.values) out += `${name}${labels} ${v}\n`;
    }
    for (const [name, g] of this.#gauges) {
      out += `# HELP ${name} ${g.help}\n# TYPE ${name} gauge\n`;
      for (const [labels, v] of g.read()) out += `${name}${labelText(labels)} ${v}\n`;
    }
    return out;
  }
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
