import { Group, Pagination, Select, Text } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';

export interface PagerProps {
  page: number;
  pageSize: number;
  total: number;
  onPage(page: number): void;
  onPageSize?(pageSize: number): void;
  /** What is counted ("tokens", "events"). */
  noun: string;
}

/**
 * A list page's paging state: `page` and `pageSize` for the query, and the Pager's props for a total. A new page
 * size starts again at page 1; `firstPage` is for a new filter or sort.
 */
export function usePaging(initialPageSize = 20) {
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(initialPageSize);
  const firstPage = useCallback(() => setPage(1), []);
  const pagerProps = (total: number, one: string, many: string): PagerProps => ({
    page,
    pageSize,
    total,
    noun: total === 1 ? one : many,
    onPage: setPage,
    onPageSize: (size) => {
      setPageSize(size);
      setPage(1);
    },
  });
  return { page, pageSize, setPage, firstPage, pagerProps };
}

/** Paging on the server's paging: page/pageSize in the query, the total from X-Total-Count. */
export function Pager({ page, pageSize, total, onPage, onPageSize, noun }: PagerProps) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  // The last row of the last page deleted (or a filter narrowed): step back to the page that now is the last.
  useEffect(() => {
    if (page > pages) onPage(pages);
  }, [page, pages, onPage]);
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
