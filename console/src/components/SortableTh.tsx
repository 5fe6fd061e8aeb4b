import { Table, UnstyledButton } from '@mantine/core';

export interface Sort<F extends string = string> {
  field: F;
  direction: 'asc' | 'desc';
}

/** A column header that sorts on the server; aria-sort tells screen readers the current order. */
export function SortableTh<F extends string>({ label, field, sort, onSort }: { label: string; field: F; sort: Sort<F>; onSort(sort: Sort<F>): void }) {
  const active = sort.field === field;
  const next: Sort<F> = { field, direction: active && sort.direction === 'asc' ? 'desc' : 'asc' };
  return (
    <Table.Th className="nowrap" aria-sort={active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton onClick={() => onSort(next)} fw={600} fz="sm">
        {label}
        <span aria-hidden="true">{active ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : ' ↕'}</span>
      </UnstyledButton>
    </Table.Th>
  );
}
