/* eslint-disable no-control-regex -- these specs look for control characters */
import { describe, expect, it, jest } from '@jest/globals';
import { formatTable, note, printFields, printLine, shortDate, terminalSafe } from './output.js';

describe('formatTable', () => {
  const columns = [
    { header: 'ID', value: (row: { id: number; text: string }) => String(row.id) },
    { header: 'TEXT', value: (row: { id: number; text: string }) => row.text, max: 200 },
  ];

  it('pads every column but the last to its widest value', () => {
    expect(formatTable([{ id: 1, text: 'a' }, { id: 123, text: 'b' }], columns, 80)).toBe('ID   TEXT\n1    a\n123  b');
  });

  it('cuts the last column to what the width leaves, with an ellipsis, and flattens line breaks', () => {
    const lines = formatTable([{ id: 7, text: `line one\nline two ${'x'.repeat(100)}` }], columns, 30).split('\n');
    expect(lines[1]).toBe(`7   line one line two xxxxxxx…`);
    expect(lines[1].length).toBe(30);
  });

  it('cuts any column at its max', () => {
    const narrow = [{ header: 'N', value: (row: string) => row, max: 4 }, { header: 'X', value: () => 'x' }];
    expect(formatTable(['abcdefgh'], narrow, 80).split('\n')[1]).toBe('abc…  x');
  });
});

describe('shortDate', () => {
  it('gives UTC minutes, the fallback for null, and unparseable text as it came', () => {
    expect(shortDate('2026-11-29T10:20:30.123Z')).toBe('2026-11-29 10:20');
    expect(shortDate(null, 'never')).toBe('never');
    expect(shortDate('soon')).toBe('soon');
  });
});

describe('terminal safety', () => {
  const evil = 'a\u001b]0;owned\u0007b\u001b[2Jc\rd\u009be\u202ef\u2066g\u007fh';

  it('replaces C0 and C1 controls, DEL and bidi overrides with "?"', () => {
    expect(terminalSafe(evil)).toBe('a?]0;owned?b?[2Jc?d?e?f?g?h');
    expect(terminalSafe('plain – text ✓')).toBe('plain – text ✓');
  });

  it('tables measure the sanitised text', () => {
    const columns = [
      { header: 'N', value: (row: string) => row },
      { header: 'X', value: () => 'x' },
    ];
    const table = formatTable(['\u001b[31mred', 'plain'], columns, 80);
    expect(table).toBe('N         X\n?[31mred  x\nplain     x');
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it('printLine, printFields and note never write a raw escape', () => {
    const out: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    try {
      printLine(`Signed in as ${evil}`);
      printFields([['Name', evil]]);
      note(evil);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(out.join('')).not.toMatch(/[\u001b\u0007\r\u009b\u202e\u2066\u007f]/);
    expect(out).toHaveLength(3);
  });
});
