import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const short = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'npm:').replace(/^.*\/(src|bench)\//, '$1/') || '(native)';
const fnKey = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: Node) => {
  const u = short(n.callFrame.url);
  return u.startsWith('npm:') ? u.split('/').slice(0, u.startsWith('npm:@') ? 2 : 1).join('/') : u;
};
/** Our code and the packages: the frames worth an inclusive figure. */
const ours = (n: Node) => /^(src\/|npm:)/.test(short(n.callFrame.url));

function ranked(sums: Map<string, number>, busy: number, top: number): string[] {
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`);
}

/**
 * A V8 .cpuprofile as text: self time by function and by file/package, and inclusive time (self plus
 * callees) of the project's and the packages' functions, which says which step of a request costs what.
 * Idle time is left out of the shares.
 */
export function summarizeProfile(file: string, top = 20): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  let idle = 0;
  for (const [id, us] of selfUs) if (byId.get(id)?.callFrame.functionName === '(idle)') { idle += us; selfUs.delete(id); }
  const busy = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const lines = [`${file}: ${(busy / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle`];

  for (const [title, key] of [['self time by function', fnKey], ['self time by file / package', fileKey]] as const) {
    const sums = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const n = byId.get(id);
      if (n) sums.set(key(n), (sums.get(key(n)) ?? 0) + us);
    }
    lines.push(` ${title} (share of busy time):`, ...ranked(sums, busy, top));
  }
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (!n || !ours(n)) continue;
      const k = fnKey(n);
      if (!seen.has(k)) { seen.add(k); inclusive.set(k, (inclusive.get(k) ?? 0) + us); }
    }
  }
  lines.push(' inclusive time of project and package functions (share of busy time):', ...ranked(inclusive, busy, top + 10));
  return lines.join('\n');
}
