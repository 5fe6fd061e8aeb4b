import { describe, expect, it } from '@jest/globals';
import { createSecretKey, randomUUID } from 'node:crypto';
import { encodeToken } from '../app-token/token-codec.js';
import { decodeImportFile, fingerprintOf, parseImportFile, readTokenClaims, type ParsedImportFile } from './psu-import-file.js';

const KEY = createSecretKey(Buffer.from('PleaseUseYourOwnSigningKeyHere', 'utf8'));
const now = Math.floor(Date.now() / 1000);
const mint = (name: string, roles: string[]) => encodeToken({ name, roles, hash: randomUUID(), nbf: now, exp: now + 86400, iss: 'IronmanSoftware', aud: 'PowerShellUniversal' }, KEY);

const A = mint('payroll-bot', ['Payroll']);
const B = mint('Admin', ['Administrator', 'Operator']);

function parsed(text: string | Buffer): Extract<ParsedImportFile, { ok: true }> {
  const result = parseImportFile(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  if (!result.ok) throw new Error(`expected a parsed file, got: ${result.message}`);
  return result;
}

describe('parseImportFile: JSON as PSU and PowerShell write it', () => {
  it("reads an array of PSU's {Token, Identity: {Name}, Role, Expiration} with each entry's line, keeping only what the route takes", () => {
    // An export of PSU's token records: more properties than the migration body, which refuses unknown ones.
    const text = JSON.stringify(
      [
        { Id: 7, Token: A, Identity: { Id: 3, Name: 'payroll-bot', Roles: ['Payroll'] }, Role: 'Payroll', Expiration: '2027-05-28T17:24:25.1234567+02:00', Created: '2026-01-01T00:00:00', Revoked: false },
        { Token: B, Identity: { Name: 'Admin' }, Role: 'Administrator, Operator', Expiration: null },
      ],
      null,
      4,
    );
    const file = parsed(text);
    expect(file.format).toBe('json-array');
    expect(file.entries).toEqual([
      { entry: 1, line: 2, identity: 'payroll-bot', fingerprint: fingerprintOf(A), body: { Token: A, Identity: { Name: 'payroll-bot' }, Role: ['Payroll'], Expiration: '2027-05-28T17:24:25.1234567+02:00' } },
      { entry: 2, line: text.split('\n').findIndex((l) => l.includes(B)), identity: 'Admin', fingerprint: fingerprintOf(B), body: { Token: B, Identity: { Name: 'Admin' }, Role: ['Administrator', 'Operator'] } },
    ]);
  });

  it('reads property names in any case, a Role array, and a Windows PowerShell 5.1 date (string or object)', () => {
    const file = parsed(
      JSON.stringify([
        { token: A, identity: { name: 'payroll-bot' }, role: ['Payroll'], expiration: '/Date(1893456000000)/' },
        { TOKEN: B, IDENTITY: { NAME: 'Admin' }, ROLE: ['Administrator', 'Operator'], EXPIRATION: { value: '/Date(1893456000000)/', DisplayHint: 2, DateTime: 'Tuesday, January 1, 2030' } },
      ]),
    );
    expect(file.entries.map((e) => e.body)).toEqual([
      { Token: A, Identity: { Name: 'payroll-bot' }, Role: ['Payroll'], Expiration: '/Date(1893456000000)/' },
      { Token: B, Identity: { Name: 'Admin' }, Role: ['Administrator', 'Operator'], Expiration: { value: '/Date(1893456000000)/', DisplayHint: 2, DateTime: 'Tuesday, January 1, 2030' } },
    ]);
  });

  it('reads one object (ConvertTo-Json of a single token) and 5.1\'s {"value": [...], "Count": n}', () => {
    expect(parsed(JSON.stringify({ Token: A, Identity: { Name: 'payroll-bot' }, Role: 'Payroll' }, null, 2))).toMatchObject({ format: 'json-object', entries: [{ entry: 1, line: 1, identity: 'payroll-bot' }] });
    const wrapped = parsed(JSON.stringify({ value: [{ Token: A, Identity: { Name: 'payroll-bot' }, Role: 'Payroll' }, { Token: B }], Count: 2 }, null, 2));
    expect(wrapped.format).toBe('json-array');
    expect(wrapped.entries.map((e) => [e.entry, e.line, e.identity])).toEqual([
      [1, 3, 'payroll-bot'],
      [2, 10, 'Admin'],
    ]);
  });

  it("takes a missing Identity or Role from the token's claims (the server still checks them)", () => {
    const file = parsed(JSON.stringify([{ Token: B }, { Token: A, Identity: 'payroll-bot' }]));
    expect(file.entries.map((e) => e.body)).toEqual([
      { Token: B, Identity: { Name: 'Admin' }, Role: ['Administrator', 'Operator'] },
      { Token: A, Identity: { Name: 'payroll-bot' }, Role: ['Payroll'] },
    ]);
  });

  it('reads an array of bare token strings', () => {
    expect(parsed(JSON.stringify([A, B])).entries.map((e) => e.body?.Identity.Name)).toEqual(['payroll-bot', 'Admin']);
  });

  it('turns a bad entry into a problem with its number and line, and reads the others', () => {
    const text = ['[', `  {"Token": "${A}", "Identity": {"Name": "payroll-bot"}, "Role": "Payroll"},`, '  {"Identity": {"Name": "x"}, "Role": "R"},', `  {"Token": "${A}", "Role": 5},`, `  {"Token": "${A}", "Expiration": "12/31/2027"},`, `  {"Token": "${A}", "token": "${B}"},`, '  42,', `  {"Token": "${A}", "Revoked": true}`, ']'].join('\n');
    const file = parsed(text);
    expect(file.entries[0].body).toBeDefined();
    expect(file.entries.slice(1).map((e) => [e.entry, e.line, e.problem?.reason, e.body])).toEqual([
      [2, 3, 'bad-entry', undefined],
      [3, 4, 'bad-entry', undefined],
      [4, 5, 'bad-entry', undefined],
      [5, 6, 'bad-entry', undefined],
      [6, 7, 'bad-entry', undefined],
      [7, 8, 'revoked-in-psu', undefined],
    ]);
    expect(file.entries[1].problem?.message).toBe('no Token (a string)');
    expect(file.entries[3].problem?.message).toMatch(/^Expiration: "12\/31\/2027" is not an ISO 8601 date/);
    // A problem names the entry, never the token.
    expect(JSON.stringify(file.entries.map((e) => e.problem))).not.toContain(A.split('.')[2]);
  });

  it('refuses a whole file that starts as JSON but is not, giving a line and never the text', () => {
    const result = parseImportFile(Buffer.from(`[\n  {"Token": "${A}",\n  "Identity": }\n]`));
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^the file starts as a JSON array but is not valid JSON/) });
    expect(JSON.stringify(result)).not.toContain(A.slice(0, 20));
    expect(parseImportFile(Buffer.from(`{\n  "Token": "${A}",\n  "Identity": \n}`))).toMatchObject({ ok: false, message: expect.stringMatching(/starts as a JSON object but is not valid JSON/) });
  });

  it('refuses an empty file or an empty array: an export that wrote nothing is worth a look', () => {
    expect(parseImportFile(Buffer.from(' \r\n\n'))).toEqual({ ok: false, message: 'the file holds no entries' });
    expect(parseImportFile(Buffer.from('[]'))).toMatchObject({ ok: false, message: expect.stringMatching(/no entries/) });
  });
});

describe('parseImportFile: one entry a line', () => {
  it('reads JSON lines, skipping blank lines and # comments, with line numbers', () => {
    const file = parsed(['# exported 2026-11-29', JSON.stringify({ Token: A, Identity: { Name: 'payroll-bot' }, Role: 'Payroll' }), '', '   ', JSON.stringify({ Token: B, Identity: { Name: 'Admin' }, Role: ['Administrator', 'Operator'] })].join('\n'));
    expect(file.format).toBe('json-lines');
    expect(file.entries.map((e) => [e.entry, e.line, e.identity])).toEqual([
      [1, 2, 'payroll-bot'],
      [2, 5, 'Admin'],
    ]);
  });

  it("reads a plain list of tokens: identity and roles from the claims, the token's own exp left to the server", () => {
    const file = parsed(`${A}\n\n${B}\n`);
    expect(file.format).toBe('token-list');
    expect(file.entries).toEqual([
      { entry: 1, line: 1, identity: 'payroll-bot', fingerprint: fingerprintOf(A), body: { Token: A, Identity: { Name: 'payroll-bot' }, Role: ['Payroll'] } },
      { entry: 2, line: 3, identity: 'Admin', fingerprint: fingerprintOf(B), body: { Token: B, Identity: { Name: 'Admin' }, Role: ['Administrator', 'Operator'] } },
    ]);
  });

  it('counts a line that is neither JSON nor a readable token as a problem on its line, and reads the rest', () => {
    const garbage = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2lnbmF0dXJl`;
    const file = parsed([A, 'this is not a token', `{"Token": "${B}", oops}`, garbage, B].join('\n'));
    expect(file.entries.map((e) => [e.line, e.problem?.reason ?? 'ok'])).toEqual([
      [1, 'ok'],
      [2, 'unreadable-entry'],
      [3, 'unreadable-entry'],
      [4, 'unreadable-entry'],
      [5, 'ok'],
    ]);
    expect(file.entries[2].problem?.message).toBe('not valid JSON');
    expect(file.format).toBe('mixed-lines');
  });
});

describe('decodeImportFile: files from Windows PowerShell', () => {
  const json = JSON.stringify([{ Token: A, Identity: { Name: 'payroll-bot' }, Role: 'Payroll' }], null, 2).replace(/\n/g, '\r\n');

  it.each([
    ['UTF-8 with a BOM and CRLF (Out-File -Encoding utf8 in 5.1)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json, 'utf8')]), 'utf-8'],
    ["UTF-16 LE with a BOM (5.1's Out-File default)", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]), 'utf-16le'],
    ['UTF-16 BE with a BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(json, 'utf16le').swap16()]), 'utf-16be'],
    ['UTF-16 LE without a BOM', Buffer.from(json, 'utf16le'), 'utf-16le'],
  ])('reads %s', (_what, bytes, encoding) => {
    const file = parsed(bytes);
    expect(file.encoding).toBe(encoding);
    expect(file.entries).toEqual([{ entry: 1, line: 2, identity: 'payroll-bot', fingerprint: fingerprintOf(A), body: { Token: A, Identity: { Name: 'payroll-bot' }, Role: ['Payroll'] } }]);
  });

  it('reads a token list with CRLF line ends', () => {
    expect(parsed(`${A}\r\n${B}\r\n`).entries.map((e) => e.body?.Token)).toEqual([A, B]);
  });

  it('refuses a binary file', () => {
    expect(decodeImportFile(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x14, 0x00, 0x08, 0x00, 0x00, 0x08]))).toMatchObject({ ok: false, message: expect.stringMatching(/not text/) });
  });
});

describe('readTokenClaims', () => {
  it("reads PSU's name and role claims (one role a string, several an array) without verifying", () => {
    expect(readTokenClaims(A)).toEqual({ name: 'payroll-bot', roles: ['Payroll'] });
    expect(readTokenClaims(B)).toEqual({ name: 'Admin', roles: ['Administrator', 'Operator'] });
  });

  it.each([['not.a.token!'], ['a.b.c'], [`x.${Buffer.from('[1]').toString('base64url')}.y`], [`x.${Buffer.from('{"name":"x","role":"y"}').toString('base64url')}.y`]])('reads nothing from %s', (token) => {
    expect(readTokenClaims(token)).toBeUndefined();
  });

  it('names an entry by a control-free identity so a name cannot drive the terminal', () => {
    const token = mint('evil\u001b[2Jname', ['Reader']);
    expect(parsed(token).entries[0].identity).toBe('evil?[2Jname');
  });
});
