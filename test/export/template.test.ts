import { describe, expect, it } from 'vitest';
import { refVars, substitute } from '../../src/export/backends/template.js';

describe('template variables', () => {
  it('substitutes a Cinder UUID and the sizes', () => {
    const vars = refVars('094098e3-67cd-4a57-a683-a518cb8020db', undefined, 2 * 1024 ** 3);
    expect(substitute('/mnt/*/volume-{id}:{size}:{size_bytes}', vars))
      .toBe(`/mnt/*/volume-094098e3-67cd-4a57-a683-a518cb8020db:2:${2 * 1024 ** 3}`);
  });

  it.each(['../etc', 'a/b', '-rf', '', 'x'.repeat(65), 'id with space', 'é'])(
    'refuses an id that is not a plain identifier: %j', (id) => {
      expect(() => refVars(id, undefined, 1)).toThrow(/not a plain identifier/);
      expect(() => refVars('094098e3-67cd-4a57-a683-a518cb8020db', id, 1)).toThrow(/not a plain identifier/);
    });
});
