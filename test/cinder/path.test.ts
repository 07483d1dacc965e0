import { describe, expect, it } from 'vitest';
import { canonicalId, decodePath, encodeSegment, isMutating, targetParser } from '../../src/cinder/path.js';
import { parseTarget } from '../helpers/target.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const V = '094098e3-67cd-4a57-a683-a518cb8020db';

describe('request targets as Cinder reads them', () => {
  it.each([
    [`/v3/${P}/volumes/${V}`],
    [`/v3/${P}/volumes/${V}.json`],
    [`/v3//${P}/volumes/${V}`],
    [`/v3/${P}//volumes/${V}`],
    [`//v3/${P}/volumes//${V}`],
    [`/%76%33/${P}/volumes/${V}`],
    [`/v3/${P}/volumes%2F${V}`],
    [`/v3/${P}/volumes/${V}?cascade=true`],
    [`/v3/${P}/volumes/${V}.json?x=1`],
  ])('%s names the volume in the project', (url) => {
    expect(parseTarget('DELETE', url)).toMatchObject({ method: 'DELETE', version: 'v3', project: P, rest: ['volumes', V] });
  });

  it('reads the project-less form, where the first segment is no project id', () => {
    expect(parseTarget('DELETE', `/v3/volumes/${V}`)).toMatchObject({ version: 'v3', project: null, rest: ['volumes', V] });
    expect(parseTarget('GET', '/v3/volumes/detail.json')).toMatchObject({ project: null, rest: ['volumes', 'detail'] });
    expect(parseTarget('POST', '/v3/attachments')).toMatchObject({ project: null, rest: ['attachments'] });
    // Cinder's project_id_regex is case-sensitive hex: an upper-case project is not one
    expect(parseTarget('GET', `/v3/${P.toUpperCase()}/volumes/${V}`).project).toBeNull();
  });

  it('takes the project pattern from the configuration (Cinder project_id_regex)', () => {
    const parse = targetParser('[0-9a-z\\-]+');
    expect(parse('GET', `/v3/admin/volumes/${V}`)).toMatchObject({ project: 'admin', rest: ['volumes', V] });
  });

  it('cuts the format suffix from the last segment only, and only .json, case-sensitively', () => {
    expect(parseTarget('POST', `/v3/${P}/volumes/${V}/action.json`).rest).toEqual(['volumes', V, 'action']);
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}.JSON`).rest).toEqual(['volumes', `${V}.JSON`]);
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}.xml`).rest).toEqual(['volumes', `${V}.xml`]);
    expect(parseTarget('GET', `/v3/${P}/volumes/.json`).rest).toEqual(['volumes', '.json']);
  });

  it('keeps a trailing slash, which matches no route', () => {
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}/`).rest).toEqual(['volumes', V, '']);
  });

  it('reads what the forwarder sends: dot segments resolved (Cinder would not resolve them, but never sees one)', () => {
    expect(parseTarget('DELETE', `/v3/${P}/./volumes/${V}`)).toMatchObject({ project: P, rest: ['volumes', V] });
    expect(parseTarget('GET', `/v3/${P}/volumes/x/../${V}`)).toMatchObject({ project: P, rest: ['volumes', V] });
    expect(parseTarget('GET', `/v3/${P}/volumes/x/%2E%2e/${V}`)).toMatchObject({ project: P, rest: ['volumes', V] });
    expect(parseTarget('GET', `/v2/../v3/${P}/volumes/${V}`)).toMatchObject({ version: 'v3', rest: ['volumes', V] });
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}#frag`).rest).toEqual(['volumes', V]);
  });

  it('takes the method from the last _method of the query string, as Routes does', () => {
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?_method=DELETE`).method).toBe('DELETE');
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?_method=delete`).method).toBe('DELETE');
    expect(parseTarget('PUT', `/v3/${P}/volumes/${V}?_method=GET`).method).toBe('GET');
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?_method=GET&_method=DELETE`).method).toBe('DELETE');
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?_method=DELETE&_method=`).method).toBe('GET');
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?_m%65thod=DELETE`).method).toBe('GET');
    // Routes looks for the literal text: an encoded key is not seen
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?%5Fmethod=DELETE`).method).toBe('GET');
    expect(parseTarget('GET', `/v3/${P}/volumes/${V}?x_method=DELETE`).method).toBe('GET');
  });

  it('marks a form-encoded POST without a query override: its method may come from the body', () => {
    const form = parseTarget('POST', `/v3/${P}/volumes/${V}`, 'Application/X-WWW-Form-Urlencoded; charset=utf-8');
    expect(form.methodFromBody).toBe(true);
    expect(isMutating(form)).toBe(true);
    expect(parseTarget('POST', `/v3/${P}/volumes/${V}`, 'multipart/form-data; boundary=x').methodFromBody).toBe(true);
    expect(parseTarget('POST', `/v3/${P}/volumes/${V}`, 'application/json').methodFromBody).toBe(false);
    expect(parseTarget('POST', `/v3/${P}/volumes/${V}?_method=GET`, 'multipart/form-data').methodFromBody).toBe(false);
  });

  it('knows the version documents and what is outside the API', () => {
    expect(parseTarget('GET', '/')).toMatchObject({ version: null, versionDocument: true });
    expect(parseTarget('GET', '//')).toMatchObject({ version: null, versionDocument: true });
    expect(parseTarget('GET', '/v3')).toMatchObject({ version: 'v3', versionDocument: true, rest: [] });
    expect(parseTarget('GET', '/v2/')).toMatchObject({ version: 'v2', versionDocument: true });
    expect(parseTarget('GET', '/v20/x')).toMatchObject({ version: null, versionDocument: false });
    expect(parseTarget('GET', '/healthz')).toMatchObject({ version: null, versionDocument: false });
    // an absolute-form target is sent upstream with a leading slash: Cinder sees no version there
    expect(parseTarget('DELETE', `http://h/v3/${P}/volumes/${V}`).version).toBeNull();
  });

  it('never throws on hostile input', () => {
    for (const url of ['/v3/%', '/v3/%E0%A4%A/volumes/x', '/v3/\u0000', `/v3/${P}/volumes/%FF`, '', '?', '/?_method=%', '/?_method']) {
      expect(() => parseTarget('POST', url)).not.toThrow();
    }
    expect(parseTarget('GET', '/v3/%zz/volumes').rest).toEqual(['%zz', 'volumes']);
  });
});

describe('segments and ids', () => {
  it('decodes as latin-1 bytes and encodes back to the same bytes', () => {
    const raw = '/a%2Fb%FF%20c';
    const decoded = decodePath(raw);
    expect(decoded).toBe('/a/b\u00ff c');
    expect(encodeSegment('b\u00ff c/d')).toBe('b%FF%20c%2Fd');
  });

  it('puts ids in the form a MySQL-backed Cinder compares them', () => {
    expect(canonicalId(`${V.toUpperCase()}  `)).toBe(V);
    expect(canonicalId(` ${V}`)).toBe(` ${V}`);
  });
});
