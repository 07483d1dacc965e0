/** One figure judged against a target (issues 5 and 13). `met` is null when the figure could not be measured. */
export interface Target {
  name: string;
  value: number | null;
  unit: string;
  /** Human form of the bound, e.g. ">= 2x" */
  bound: string;
  met: boolean | null;
  note?: string;
}

export interface Table { title: string; header: string[]; rows: (string | number)[][]; notes?: string[] }

export interface SectionResult {
  name: string;
  tables: Table[];
  targets: Target[];
  /** The raw figures, written to the JSON file. */
  data: Record<string, unknown>;
}

export const verdict = (met: boolean | null): string => (met === null ? 'n/a' : met ? 'met' : 'NOT MET');

export function judge(name: string, value: number | null, unit: string, bound: string, ok: (v: number) => boolean, note?: string): Target {
  return { name, value, unit, bound, met: value === null || !Number.isFinite(value) ? null : ok(value), ...(note ? { note } : {}) };
}

/** Fixed decimals that still show small numbers. */
export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return n.toFixed(Math.abs(n) < 10 && digits < 2 ? 2 : digits);
}

export function renderTable(t: Table): string {
  const cells = [t.header, ...t.rows.map((r) => r.map(String))];
  const widths = t.header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [`\n${t.title}`, line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

export function targetsTable(targets: Target[]): Table {
  return {
    title: 'Targets (issues 5 and 13)',
    header: ['target', 'figure', 'bound', 'verdict', 'note'],
    rows: targets.map((t) => [t.name, t.value === null ? '-' : `${fmt(t.value, 2)} ${t.unit}`, t.bound, verdict(t.met), t.note ?? '']),
  };
}
