import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BodyRejected, parseJsonObject, readLimitedBody } from '../../src/server/body.js';
import { CinderFault } from '../../src/errors.js';
import { listen } from '../helpers/servers.js';

/** A server whose handler hands the request to `onRequest`; returns its port. */
async function serve(onRequest: (req: IncomingMessage) => void): Promise<number> {
  const server = createServer((req, res) => { onRequest(req); res.on('error', () => {}); });
  return (await listen(server)).port;
}

describe('readLimitedBody', () => {
  it('rejects when the client goes away before the body ends', async () => {
    let result!: Promise<Buffer>;
    const got = new Promise<void>((done) => {
      void serve((req) => { result = readLimitedBody(req, 1000); done(); }).then((port) => {
        const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': '100' } });
        req.on('error', () => {});
        req.write('{"partial":');
        setImmediate(() => got.then(() => req.destroy()));
      });
    });
    await got;
    await expect(result).rejects.toThrow(/aborted/);
  });

  it('rejects when its signal aborts', async () => {
    const ctl = new AbortController();
    let result!: Promise<Buffer>;
    const got = new Promise<void>((done) => {
      void serve((req) => { result = readLimitedBody(req, 1000, ctl.signal); done(); }).then((port) => {
        const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': '100' } });
        req.on('error', () => {});
        req.write('{');
      });
    });
    await got;
    ctl.abort();
    await expect(result).rejects.toThrow('request aborted');
  });

  it('refuses a declared length over the limit before reading a byte', async () => {
    const fake = { headers: { 'content-length': '2000' } } as unknown as IncomingMessage;
    const err = await readLimitedBody(fake, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BodyRejected);
    expect((err as BodyRejected).fault).toBeInstanceOf(CinderFault);
    expect((err as BodyRejected).fault.message).toBe('Request is too large.');
  });
});

describe('parseJsonObject', () => {
  it('accepts an object and refuses everything else with Malformed request body', () => {
    expect(parseJsonObject(Buffer.from('{"a": 1}'))).toEqual({ a: 1 });
    for (const text of ['[]', '1', 'null', '"s"', '{', '\u00ff']) {
      expect(() => parseJsonObject(Buffer.from(text))).toThrow('Malformed request body');
    }
  });
});
