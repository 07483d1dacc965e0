// The Python clients' own unit tests (clients/python/tests, stdlib unittest, no cinderclient
// needed), run here so `npm test` runs them; the commands themselves are tested end to end in
// test/e2e/wrs-clients.test.ts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('../../clients/python', import.meta.url));

it('python unittest: archive names, action bodies, wrs-header', async () => {
  const out = await new Promise<{ code: number; text: string }>((resolve) => {
    execFile('python3', ['-m', 'unittest', 'discover', '-s', join(pkg, 'tests'), '-t', pkg], { cwd: pkg },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, text: `${stdout}${stderr}` }));
  });
  expect(out.code, out.text).toBe(0);
  const ran = /Ran (\d+) tests?/.exec(out.text);
  expect(Number(ran?.[1]), out.text).toBeGreaterThanOrEqual(7);
});
