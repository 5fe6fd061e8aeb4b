import { describe, expect, it } from '@jest/globals';
import { formatTable, shortDate } from './output.js';

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
