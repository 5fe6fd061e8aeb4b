import { Group, Pagination, Select, Text } from '@mantine/core';

export interface PagerProps {
  page: number;
  pageSize: number;
  total: number;
  onPage(page: number): void;
  onPageSize?(pageSize: number): void;
  /** What is counted ("tokens", "events"). */
  noun: string;
}

/** Paging on the server's paging: page/pageSize in the query, the total from X-Total-Count. */
export function Pager({ page, pageSize, total, onPage, onPageSize, noun }: PagerProps) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <Group justify="space-between" mt="sm" gap="xs">
      <Text size="sm" aria-live="polite">
        {total} {noun}
      </Text>
      <Group gap="xs">
        {onPageSize && (
          <Select
            aria-label="Rows per page"
            size="xs"
            w={90}
            data={['10', '20', '50', '100']}
            value={String(pageSize)}
            onChange={(value) => value && onPageSize(Number(value))}
            allowDeselect={false}
          />
        )}
        <Pagination
          total={pages}
          value={Math.min(page, pages)}
          onChange={onPage}
          size="sm"
          siblings={1}
          getItemProps={(p) => ({ 'aria-label': `Page ${p}` })}
          getControlProps={(control) => ({ 'aria-label': { first: 'First page', previous: 'Previous page', next: 'Next page', last: 'Last page' }[control] })}
        />
      </Group>
    </Group>
  );
}
