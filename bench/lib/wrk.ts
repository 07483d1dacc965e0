import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './procs.js';

export interface WrkResult {
  connections: number;
  durationSec: number;
  requests: number;
  rps: number;
  /** Latency in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  mean: number;
  max: number;
  /** Socket errors plus non-2xx/3xx answers: must be 0 for the figures to count. */
  errors: number;
  /** Average answer size, to show both sides served the same body. */
  bytesPerReq: number;
}

/**
 * wrk's own Lua done() prints the exact latency distribution as one JSON line. With pacing, each
 * connection waits a random 0.5x-1.5x `paceMs` before each request (wrk does not count the wait in the
 * latency): an offered load below saturation, so latency is service time rather than queueing.
 */
function script(paceMs: number): string {
  return `
wrk.headers["X-Auth-Token"] = "bench"
wrk.headers["Accept"] = "application/json"
local pace = ${Math.round(paceMs)}
if pace > 0 then
  delay = function() return math.random(math.floor(pace / 2), math.floor(pace * 3 / 2)) end
end
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format('BENCHJSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"errors":%.0f,' ..
    '"min":%.0f,"mean":%.1f,"max":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}\\n',
    s.requests, s.duration, s.bytes, e.connect + e.read + e.write + e.status + e.timeout,
    lat.min, lat.mean, lat.max, lat:percentile(50), lat:percentile(90), lat:percentile(99), lat:percentile(99.9)))
end
`;
}

export async function wrk(url: string, opts: { connections: number; durationSec: number; paceMs?: number; dir: string }): Promise<WrkResult> {
  const file = join(opts.dir, `wrk-${opts.paceMs ?? 0}.lua`);
  writeFileSync(file, script(opts.paceMs ?? 0));
  const { stdout } = await run('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.durationSec}s`, '--timeout', '10s', '-s', file, url],
    { timeoutMs: (opts.durationSec + 30) * 1000 });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (!line) throw new Error(`wrk printed no result: ${stdout.slice(-500)}`);
  const j = JSON.parse(line.slice('BENCHJSON '.length)) as Record<string, number>;
  const ms = (us: number | undefined) => (us ?? 0) / 1000;
  const durationSec = (j.duration_us ?? 0) / 1e6;
  const requests = j.requests ?? 0;
  return {
    connections: opts.connections, durationSec, requests, rps: requests / durationSec,
    p50: ms(j.p50), p90: ms(j.p90), p99: ms(j.p99), p999: ms(j.p999), mean: ms(j.mean), max: ms(j.max),
    errors: j.errors ?? 0, bytesPerReq: requests > 0 ? (j.bytes ?? 0) / requests : 0,
  };
}
