import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { answerBodyFacts, answerHeaders, HeaderNames, outgoingHeaders, publicOrigin } from '../../src/proxy/headers.js';

function fakeReq(headers: Record<string, string>, remoteAddress = '192.0.2.7'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const origin = { proto: 'http', host: 'proxy:9776' };

describe('outgoing headers', () => {
  it('drops hop-by-hop headers, those named in Connection, and Expect', () => {
    const out = outgoingHeaders(fakeReq({
      connection: 'keep-alive, x-secret-hop', 'keep-alive': 'timeout=5', 'x-secret-hop': '1', te: 'trailers',
      expect: '100-continue', 'x-auth-token': 't', 'content-length': '5',
    }), { translated: false, identity: false, origin });
    expect(out).toEqual({
      'x-auth-token': 't', 'content-length': '5',
      'x-forwarded-for': '192.0.2.7', 'x-forwarded-host': 'proxy:9776', 'x-forwarded-proto': 'http',
    });
  });

  it('drops a caller-sent RFC 7239 Forwarded header so our X-Forwarded-* decide the links', () => {
    const out = outgoingHeaders(fakeReq({ forwarded: 'host=evil.example;proto=https', host: 'proxy:9776' }),
      { translated: false, identity: false, origin });
    expect(out.forwarded).toBeUndefined();
    expect(out['x-forwarded-host']).toBe('proxy:9776');
  });

  it('drops microversion headers only when translating, and sizes a replacement body', () => {
    const req = fakeReq({ 'openstack-api-version': 'volume 3.70', 'x-openstack-volume-api-version': '3.70', 'transfer-encoding': 'chunked' });
    const kept = outgoingHeaders(req, { translated: false, identity: false, origin });
    expect(kept['openstack-api-version']).toBe('volume 3.70');
    const translated = outgoingHeaders(req, { translated: true, bodyLength: 12, identity: true, origin });
    expect(translated['openstack-api-version']).toBeUndefined();
    expect(translated['x-openstack-volume-api-version']).toBeUndefined();
    expect(translated['transfer-encoding']).toBeUndefined();
    expect(translated['content-length']).toBe('12');
    expect(translated['accept-encoding']).toBe('identity');
  });
});

describe('public origin', () => {
  it('takes a front proxy view first, then Host, and ignores hostile values', () => {
    expect(publicOrigin(fakeReq({ host: 'proxy:9776' }), 'up:8776')).toEqual({ proto: 'http', host: 'proxy:9776' });
    expect(publicOrigin(fakeReq({ host: 'proxy:9776', 'x-forwarded-host': 'api.example.org, inner', 'x-forwarded-proto': 'HTTPS' }), 'up:8776'))
      .toEqual({ proto: 'https', host: 'api.example.org' });
    expect(publicOrigin(fakeReq({ host: 'evil.org/x?', 'x-forwarded-proto': 'javascript' }), 'up:8776')).toEqual({ proto: 'http', host: 'up:8776' });
    expect(publicOrigin(fakeReq({ host: '[::1]:9776' }), 'up').host).toBe('[::1]:9776');
  });
});

describe('answer headers', () => {
  it('keeps names and values as they came, minus hop-by-hop and the dropped ones', () => {
    const raw = ['Content-Type', 'application/json', 'Connection', 'keep-alive', 'Transfer-Encoding', 'chunked',
      'X-Openstack-Request-Id', 'req-1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '10'];
    expect(answerHeaders(raw, new HeaderNames(['content-length']))).toEqual([
      'Content-Type', 'application/json', 'X-Openstack-Request-Id', 'req-1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2',
    ]);
    expect(answerHeaders(['KEEP-ALIVE', 'timeout=5', 'proxy-Connection', 'x', 'TE', 'trailers', 'Trailer', 'X', 'Upgrade', 'h2c',
      'Vary', 'Accept'])).toEqual(['Vary', 'Accept']);
  });

  it('header name sets match any case, only their own names, names of 32 characters and more too', () => {
    const long = 'x-a-header-name-of-forty-characters-long';
    const names = new HeaderNames(['Content-Length', long]);
    expect(names.has('CONTENT-LENGTH')).toBe(true);
    expect(names.has('content-lengtH')).toBe(true);
    expect(names.has('content-lengths')).toBe(false);
    expect(names.has('x-content-type')).toBe(false); // the same length, another name
    expect(names.has(long.toUpperCase())).toBe(true);
    expect(names.has(`${long}s`)).toBe(false);
    expect(new HeaderNames(['te']).has(long)).toBe(false);
    expect(new HeaderNames([]).has('')).toBe(false);
  });
});

describe('answer body facts', () => {
  it('reads type, length and coding in any case, the first type and length as Node keeps them', () => {
    expect(answerBodyFacts(['CONTENT-TYPE', 'application/json', 'content-length', '12', 'Content-Type', 'text/plain',
      'Content-Length', '99', 'X-Content-Type', 'text/html'])).toEqual({ contentType: 'application/json', length: 12, encoded: false });
    expect(answerBodyFacts(['Vary', 'Accept'])).toEqual({ contentType: undefined, length: NaN, encoded: false });
    expect(answerBodyFacts(['Content-Length', 'many'])).toMatchObject({ length: NaN });
  });

  it('counts a content coding in any of the Content-Encoding values, identity and empty ones not', () => {
    expect(answerBodyFacts(['Content-Encoding', 'identity']).encoded).toBe(false);
    expect(answerBodyFacts(['Content-Encoding', ' ']).encoded).toBe(false);
    expect(answerBodyFacts(['content-encoding', 'GZIP']).encoded).toBe(true);
    expect(answerBodyFacts(['Content-Encoding', 'identity, br']).encoded).toBe(true);
    expect(answerBodyFacts(['Content-Encoding', 'identity', 'Content-Encoding', 'gzip']).encoded).toBe(true);
  });
});
