import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { startFakeCinder } from '../helpers/fake-cinder.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { testConfig } from '../helpers/servers.js';

const MiB = 1024 * 1024;
const TOTAL = 50 * MiB;

// a real GC lets the RSS figure show what is held, not what merely waits to be collected
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('large uploads', () => {
  it('streams a 50 MiB body upstream while the client is still sending, in bounded memory', async () => {
    let firstBytes!: () => void;
    const upstreamGotBytes = new Promise<void>((resolve) => { firstBytes = resolve; });
    let received = 0;
    let peakRss = 0;
    const cinder = await startFakeCinder({
      'PUT /v3/p/images/upload': (req, res) => {
        req.on('data', (chunk: Buffer) => {
          if (received === 0) firstBytes();
          const before = received;
          received += chunk.length;
          // sample every 4 MiB, after collecting the chunks already consumed
          if (Math.floor(before / (4 * MiB)) !== Math.floor(received / (4 * MiB))) {
            gc();
            peakRss = Math.max(peakRss, process.memoryUsage().rss);
          }
        });
        req.on('end', () => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ received }));
        });
      },
    }, { stream: true });
    const proxy = await startProxy(testConfig(cinder.url));
    gc();
    const baseline = process.memoryUsage().rss;

    const chunk = Buffer.alloc(MiB, 0x5a);
    const answer = await new Promise<{ status: number; body: string; sentWhenUpstreamStarted: number }>((resolve, reject) => {
      let sent = 0;
      let sentWhenUpstreamStarted = -1;
      const req = http.request(`${proxy.url}/v3/p/images/upload`, {
        method: 'PUT', headers: { 'Content-Length': TOTAL, 'Content-Type': 'application/octet-stream' }, agent: false,
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sentWhenUpstreamStarted }));
      });
      req.on('error', reject);
      void upstreamGotBytes.then(() => { sentWhenUpstreamStarted = sent; });
      (async () => {
        for (let i = 0; i < TOTAL / MiB; i++) {
          // the last MiB is held back until the upstream has seen bytes: a buffering proxy never gets there
          if (i === TOTAL / MiB - 1) {
            let timer: NodeJS.Timeout | undefined;
            const stuck = new Promise<never>((_r, fail) => {
              timer = setTimeout(() => fail(new Error('upstream saw no byte of 49 MiB: the proxy holds the body')), 20_000);
            });
            await Promise.race([upstreamGotBytes, stuck]).finally(() => clearTimeout(timer));
          }
          sent += chunk.length;
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch(reject);
    });

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ received: TOTAL });
    expect(answer.sentWhenUpstreamStarted).toBeGreaterThan(0);
    expect(answer.sentWhenUpstreamStarted).toBeLessThan(TOTAL);
    // generous: a proxy holding the body would add 50 MiB (twice, counting the fake upstream's copy)
    expect(peakRss - baseline).toBeLessThan(25 * MiB);
  });
});
