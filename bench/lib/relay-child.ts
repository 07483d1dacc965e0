/**
 * A Node process that relays TCP bytes both ways and knows nothing of HTTP. In front of the real Cinder it
 * shows what one more process on the path costs on this machine by itself, apart from what Node's HTTP stack
 * (the floor proxy) and the project's code (the proxy) add on top. Prints `LISTENING <port>`.
 *
 * argv[2]: upstream port
 */
import net from 'node:net';

const upstreamPort = Number(process.argv[2]);

const server = net.createServer((caller) => {
  const upstream = net.connect(upstreamPort, '127.0.0.1');
  caller.pipe(upstream);
  upstream.pipe(caller);
  caller.on('error', () => upstream.destroy());
  upstream.on('error', () => caller.destroy());
  caller.on('close', () => upstream.destroy());
  upstream.on('close', () => caller.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`LISTENING ${addr.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
