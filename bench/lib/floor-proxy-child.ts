/**
 * The floor: the least a Node reverse proxy can do (node:http in, a keep-alive agent out, both bodies
 * piped, no routing, no logging, no rewrite). Measured beside the proxy, it splits what Node's HTTP
 * stack costs on this machine from what the project's code adds. Prints `LISTENING <port>`.
 *
 * argv[2]: upstream port
 */
import http from 'node:http';

const upstreamPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => { res.statusCode = 502; res.end(); });
  req.pipe(up);
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`LISTENING ${addr.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
