import http from 'node:http';

/** Where the running proxy's admin endpoint is: its unix socket, or an `http://host:port` (admin.listen). */
export type AdminTarget = { socketPath: string } | { url: string };

export class AdminError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

const MAX_ANSWER = 64 * 1024 * 1024;

/** One JSON request to the admin endpoint; a non-2xx answer throws with the fault's message. */
export function adminRequest<T>(target: AdminTarget, method: 'GET' | 'POST', path: string, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const where = 'socketPath' in target ? target.socketPath : target.url;
    const opts: http.RequestOptions = 'socketPath' in target
      ? { socketPath: target.socketPath, path, method }
      : { ...urlParts(target.url, path), method };
    const req = http.request({ ...opts, headers: { accept: 'application/json' }, timeout: timeoutMs });
    req.on('timeout', () => req.destroy(new Error(`no answer from the proxy at ${where} within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const down = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      reject(down ? new AdminError(`the proxy is not running (no admin endpoint at ${where})`, 0) : err);
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { size += c.length; if (size > MAX_ANSWER) req.destroy(new Error('admin answer too large')); else parts.push(c); });
      res.on('end', () => {
        let body: unknown;
        try { body = JSON.parse(Buffer.concat(parts).toString('utf8')); } catch {
          reject(new AdminError(`the admin endpoint at ${where} answered HTTP ${res.statusCode} without JSON`, res.statusCode ?? 0));
          return;
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) { resolve(body as T); return; }
        const fault = Object.values(body as Record<string, { message?: string }>)[0];
        reject(new AdminError(fault?.message ?? `HTTP ${status}`, status));
      });
    });
    req.end();
  });
}

function urlParts(base: string, path: string): http.RequestOptions {
  const u = new URL(path, base);
  return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname + u.search };
}
