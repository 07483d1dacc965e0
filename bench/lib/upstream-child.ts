/**
 * A fast fake Cinder for the bench, run in its own process so its CPU is its own. It answers recorded
 * bodies: the small volumes/detail for pass-through, a big one (argv) for the rewrite section, and
 * single volumes for the export through the proxy. `volumes` (the summary path, which the proxy passes
 * untouched) answers the same bytes as `volumes/detail`, so the two paths differ only in the rewrite. Prints `LISTENING <port>` when ready.
 *
 * argv[2]: JSON { bigProject, bigCount, volumes: { [id]: sizeGiB }, host }
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { bigDetailBody, recorded, volumeBody, type Recorded } from './fixtures.js';

interface Args { bigProject: string; bigCount: number; volumes: Record<string, number>; host: string }
const args = JSON.parse(process.argv[2] ?? '{}') as Args;

const versionsRoot = recorded('versions-root');
const versionsV3 = recorded('versions-v3');
const smallDetail = recorded('volumes-detail');
const notFound = recorded('error-404-path');
const jsonHeaders = smallDetail.headers;
const big: Recorded = { status: 200, headers: jsonHeaders, body: bigDetailBody(args.bigCount, args.bigProject) };
const emptySnapshots: Recorded = { status: 200, headers: jsonHeaders, body: Buffer.from('{"snapshots": []}') };
const volumeCache = new Map<string, Recorded>();

function send(res: ServerResponse, r: Recorded): void {
  res.writeHead(r.status, { ...r.headers, 'Content-Length': r.body.length });
  res.end(r.body);
}

function route(path: string): Recorded {
  if (path === '/' || path === '') return versionsRoot;
  const m = /^\/v[23]\/?([^/]*)(?:\/(.*))?$/.exec(path);
  if (!m) return notFound;
  const [, project = '', rest = ''] = m;
  if (project === '') return versionsV3;
  // the summary path answers the detail body too: the proxy streams it untouched, the same bytes
  if (rest === 'volumes/detail' || rest === 'volumes') return project === args.bigProject ? big : smallDetail;
  if (rest === 'snapshots' || rest === 'snapshots/detail') return emptySnapshots;
  const vol = /^volumes\/([0-9a-f-]{36})$/.exec(rest);
  if (vol) {
    const id = vol[1]!;
    let r = volumeCache.get(id);
    if (!r) {
      r = { status: 200, headers: jsonHeaders, body: volumeBody(id, args.volumes[id] ?? 1, args.host) };
      volumeCache.set(id, r);
    }
    return r;
  }
  return notFound;
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = (req.url ?? '/').split('?')[0]!;
  req.resume();
  req.on('end', () => send(res, route(path)));
});
// keep idle keep-alive sockets of the proxies' pools open between sections
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`LISTENING ${addr.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
