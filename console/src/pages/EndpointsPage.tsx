import { Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, apiPage } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { TableScroll } from '../components/TableScroll';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Pager, usePaging } from '../components/Pager';
import { EndpointDialog } from './endpoints/EndpointDialog';
import { anyMethod, ENDPOINTS_KEY, type EndpointRule } from './endpoints/endpoint-rule';
import { EndpointTest } from './endpoints/EndpointTest';

/** Custom API endpoint rules (PSU's New-PSUEndpoint), which the forward-auth route applies, and a tester. */
export function EndpointsPage() {
  const queries = useQueryClient();
  const { page, pageSize, pagerProps } = usePaging(20);
  const [editing, setEditing] = useState<{ rule: EndpointRule | null } | null>(null);
  const [deleting, setDeleting] = useState<EndpointRule | null>(null);

  const rules = useQuery({
    queryKey: [...ENDPOINTS_KEY, { page, pageSize }],
    queryFn: () => apiPage<EndpointRule>('endpoint', { page, pageSize }),
    placeholderData: keepPreviousData,
  });

  const remove = useMutation({
    mutationFn: (rule: EndpointRule) => api<void>(`endpoint/${rule.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      setDeleting(null);
      await Promise.all([queries.invalidateQueries({ queryKey: ENDPOINTS_KEY }), queries.invalidateQueries({ queryKey: ['audit'] })]);
    },
  });

  const items = rules.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>Endpoints</Title>
        <Button onClick={() => setEditing({ rule: null })}>Add Endpoint</Button>
      </Group>
      <Text size="sm">
        Rules for your own APIs behind a gateway: a request is judged by the most specific URL pattern that matches
        it; no matching rule, no entry.
      </Text>
      <ApiErrorAlert error={rules.error} />
      <TableScroll label="Endpoint rules table">
        <Table aria-label="Endpoint rules" striped highlightOnHover verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>URL</Table.Th>
              <Table.Th>Methods</Table.Th>
              <Table.Th>Authentication</Table.Th>
              <Table.Th>Roles</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((rule) => (
              <Table.Tr key={rule.id}>
                <Table.Td id={`endpoint-${rule.id}-url`} miw={160} ff="monospace">{rule.url}</Table.Td>
                <Table.Td>{anyMethod(rule) ? 'Any' : rule.method.join(', ')}</Table.Td>
                <Table.Td>{rule.authentication ? 'App token' : <Badge color="orange" variant="light">None (open)</Badge>}</Table.Td>
                <Table.Td>{rule.authentication ? rule.role.join(', ') || 'Any valid token' : '—'}</Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="default" aria-describedby={`endpoint-${rule.id}-url`} onClick={() => setEditing({ rule })}>
                      Edit
                    </Button>
                    <Button size="xs" variant="light" color="red" aria-describedby={`endpoint-${rule.id}-url`} onClick={() => { remove.reset(); setDeleting(rule); }}>
                      Delete
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
            {rules.isSuccess && items.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={5}>
                  <Text size="sm">
                    No endpoint rules yet: the forward-auth route refuses every request it is asked about by path.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </TableScroll>
      {rules.data && (
        <Pager {...pagerProps(rules.data.total, 'rule', 'rules')} />
      )}

      <EndpointDialog opened={editing !== null} rule={editing?.rule ?? null} onClose={() => setEditing(null)} />
      <ConfirmDialog
        opened={deleting !== null}
        title="Delete endpoint rule"
        confirmLabel="Delete"
        loading={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      >
        Delete the rule for <strong className="mono">{deleting?.url}</strong> ({deleting && (anyMethod(deleting) ? 'any method' : deleting.method.join(', '))})?
        Requests it matched are refused from the next request on, unless another rule matches them.
      </ConfirmDialog>

      <EndpointTest />
    </Stack>
  );
}
