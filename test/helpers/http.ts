import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): any;
}

export interface RequestInput {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** A Buffer/string is sent with Content-Length; an array of chunks is sent chunked. */
  body?: Buffer | string | (Buffer | string)[];
}

/** One HTTP request on its own connection (no pooling, so servers close at once after a test). */
export function request(url: string, input: RequestInput = {}): Promise<Answer> {
  const headers: OutgoingHttpHeaders = { ...input.headers };
  // node sends a DELETE/OPTIONS body with no length at all unless told
  const hasLength = Object.keys(headers).some((k) => ['content-length', 'transfer-encoding'].includes(k.toLowerCase()));
  if (input.body !== undefined && !Array.isArray(input.body) && !hasLength) headers['Content-Length'] = Buffer.byteLength(input.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: input.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body,
          json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(input.body)) {
      for (const chunk of input.body) req.write(chunk);
      req.end();
    } else {
      req.end(input.body);
    }
  });
}

export const jsonHeaders = (token: string, extra: Record<string, string> = {}) =>
  ({ 'content-type': 'application/json', 'x-auth-token': token, ...extra });
