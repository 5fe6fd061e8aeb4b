import { Button, Code, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { apiPage } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { TableScroll } from '../components/TableScroll';
import { Pager, usePaging } from '../components/Pager';
import { formatDate } from '../format';
import './audit/audit.css';
import { ACTION_OPTIONS, AUDIT_KEY, dayBoundary, type AuditEvent } from './audit/audit-event';

function who(ref: { id: number | null; name: string | null } | null, empty: string): string {
  if (!ref) return empty;
  if (ref.name && ref.id !== null) return `${ref.name} (#${ref.id})`;
  return ref.name ?? `#${ref.id}`;
}

function target(event: AuditEvent): string {
  const parts: string[] = [];
  if (event.targetIdentity) parts.push(who(event.targetIdentity, ''));
  if (event.targetTokenId !== null) parts.push(`token #${event.targetTokenId}`);
  return parts.join(', ') || '—';
}

/** A record's detail, one line per field (values that are not text as JSON). */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ')}`)
    .join('\n');
}

/** The audit trail, newest first, filtered and paged on the server. */
export function AuditPage() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const { page, pageSize, setPage, pagerProps } = usePaging(50);
  // The typed filter asks the server once the typing pauses, not on every key.
  const [debouncedActor] = useDebouncedValue(actor.trim(), 300);

  const filters = { action, actor: debouncedActor, since: dayBoundary(from, false), until: dayBoundary(to, true) };
  const filterKey = JSON.stringify(filters);
  useEffect(() => setPage(1), [filterKey]);

  const events = useQuery({
    queryKey: [...AUDIT_KEY, filters, page, pageSize],
    queryFn: () => apiPage<AuditEvent>('audit', { ...filters, page, pageSize }),
    placeholderData: keepPreviousData,
  });

  const clear = () => {
    setAction('');
    setActor('');
    setFrom('');
    setTo('');
  };

  const items = events.data?.items ?? [];
  return (
    <Stack>
      <Title order={2}>Audit</Title>
      <Group align="flex-end" gap="sm" wrap="wrap" role="search" aria-label="Audit filters">
        <NativeSelect label="Action" description="An action, or every action of a kind" data={ACTION_OPTIONS} value={action} onChange={(event) => setAction(event.currentTarget.value)} w={220} />
        <TextInput
          label="Actor"
          description="Who did it: identity name or id"
          value={actor}
          onChange={(event) => setActor(event.currentTarget.value)}
          w={200}
          autoComplete="off"
          spellCheck={false}
        />
        <TextInput label="From" description="First day" type="date" value={from} onChange={(event) => setFrom(event.currentTarget.value)} w={170} />
        <TextInput label="To" description="Last day" type="date" value={to} onChange={(event) => setTo(event.currentTarget.value)} w={170} />
        <Button variant="default" onClick={clear} disabled={!action && !actor && !from && !to}>
          Clear filters
        </Button>
      </Group>
      <ApiErrorAlert error={events.error} />
      <TableScroll label="Audit events table">
        <Table aria-label="Audit events" striped verticalSpacing="xs" aria-busy={events.isFetching || undefined}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Actor</Table.Th>
              <Table.Th>Target</Table.Th>
              <Table.Th>Address</Table.Th>
              <Table.Th>Detail</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((event) => (
              <Table.Tr key={event.id}>
                <Table.Td className="nowrap">
                  <time dateTime={event.at} title={event.at}>
                    {formatDate(event.at)}
                  </time>
                </Table.Td>
                <Table.Td className="nowrap">{event.action}</Table.Td>
                <Table.Td miw={120}>{who(event.actor, 'system')}</Table.Td>
                <Table.Td miw={120}>{target(event)}</Table.Td>
                <Table.Td className="nowrap">{event.address ?? '—'}</Table.Td>
                <Table.Td>{event.detail ? <Code className="audit-detail">{detailText(event.detail)}</Code> : '—'}</Table.Td>
              </Table.Tr>
            ))}
            {events.isSuccess && items.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={6}>
                  <Text size="sm">
                    No events match these filters.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </TableScroll>
      {events.data && (
        <Pager {...pagerProps(events.data.total, 'event', 'events')} />
      )}
    </Stack>
  );
}
