import { Badge, Button, Group, Loader, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, apiPage, type Identity } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { TableScroll } from '../components/TableScroll';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Pager, usePaging } from '../components/Pager';
import { formatDate } from '../format';
import { AddIdentityDialog } from './identities/AddIdentityDialog';
import { EditRolesDialog } from './identities/EditRolesDialog';
import { IDENTITIES_KEY } from './identities/keys';

const SOURCE_LABEL: Record<Identity['source'], string> = { local: 'Local', service: 'Service', migrated: 'Migrated' };

type Pending = { action: 'Disable' | 'Enable' | 'Delete'; identity: Identity };

export function IdentitiesPage() {
  const queryClient = useQueryClient();
  const { page, pageSize, setPage, pagerProps } = usePaging(20);
  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search.trim(), 300);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Identity | null>(null);
  // Kept after closing, so the dialog's text does not vanish during its closing transition.
  const [pending, setPending] = useState<Pending | null>(null);
  const [confirming, setConfirming] = useState(false);

  const list = useQuery({
    queryKey: [...IDENTITIES_KEY, { page, pageSize, search: debouncedSearch }],
    queryFn: () => apiPage<Identity>('identity', { page, pageSize, search: debouncedSearch }),
    placeholderData: keepPreviousData,
  });

  const act = useMutation({
    mutationFn: async ({ action, identity }: Pending): Promise<void> => {
      if (action === 'Delete') await api<void>(`identity/${identity.id}`, { method: 'DELETE' });
      else await api<Identity>(`identity/${identity.id}`, { method: 'PATCH', body: { disabled: action === 'Disable' } });
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: IDENTITIES_KEY });
      closeConfirm();
    },
  });

  function confirm(next: Pending) {
    act.reset();
    setPending(next);
    setConfirming(true);
  }

  function closeConfirm() {
    setConfirming(false);
  }

  const identities = list.data?.items ?? [];
  const total = list.data?.total ?? 0;

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={2}>Identities</Title>
        <Button onClick={() => setAdding(true)}>Add Identity</Button>
      </Group>
      <TextInput
        label="Search"
        placeholder="Part of a name"
        maw={360}
        value={search}
        onChange={(e) => {
          setSearch(e.currentTarget.value);
          setPage(1);
        }}
      />
      <ApiErrorAlert error={list.error} />
      <TableScroll label="Identities table">
        <Table aria-label="Identities" striped highlightOnHover verticalSpacing="xs" miw={720}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Source</Table.Th>
              <Table.Th>Roles</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.isPending && (
              <Table.Tr>
                <Table.Td colSpan={6}>
                  <Loader size="sm" aria-label="Loading identities" />
                </Table.Td>
              </Table.Tr>
            )}
            {list.isSuccess && identities.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={6}>
                  <Text size="sm">{debouncedSearch ? 'No identity matches the search.' : 'No identities yet.'}</Text>
                </Table.Td>
              </Table.Tr>
            )}
            {identities.map((identity) => {
              // The row's buttons say which identity they act on (their names stay the bare action).
              const name = `identity-${identity.id}-name`;
              return (
                <Table.Tr key={identity.id}>
                  <Table.Td id={name} fw={500} miw={144}>{identity.name}</Table.Td>
                  <Table.Td>{SOURCE_LABEL[identity.source] ?? identity.source}</Table.Td>
                  <Table.Td>
                    {identity.roles.length ? (
                      <Group gap={4}>
                        {identity.roles.map((role) => (
                          <Badge key={role} variant="light" tt="none" style={{ minWidth: 'max-content' }}>{role}</Badge>
                        ))}
                      </Group>
                    ) : (
                      <Text size="sm">None</Text>
                    )}
                  </Table.Td>
                  <Table.Td className="nowrap">
                    <Text size="sm">
                      <Text span c={identity.disabled ? 'red' : 'teal'} aria-hidden="true">{identity.disabled ? '○ ' : '● '}</Text>
                      {identity.disabled ? 'Disabled' : 'Enabled'}
                    </Text>
                  </Table.Td>
                  {/* May wrap between date and time: a nowrap date widened the table past its box from 10:00 on. */}
                  <Table.Td miw={104}>
                    <time dateTime={identity.created} title={identity.created}>{formatDate(identity.created)}</time>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Button size="xs" variant="default" aria-describedby={name} onClick={() => setEditing(identity)}>Edit roles</Button>
                      <Button size="xs" variant="default" aria-describedby={name} onClick={() => confirm({ action: identity.disabled ? 'Enable' : 'Disable', identity })}>
                        {identity.disabled ? 'Enable' : 'Disable'}
                      </Button>
                      <Button size="xs" variant="light" component={Link} to={`/tokens?grant=${identity.id}`} aria-describedby={name}>Grant token</Button>
                      <Button size="xs" variant="light" color="red" aria-describedby={name} onClick={() => confirm({ action: 'Delete', identity })}>Delete</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </TableScroll>
      <Pager {...pagerProps(total, 'identity', 'identities')} />

      <AddIdentityDialog opened={adding} onClose={() => setAdding(false)} />
      {editing && <EditRolesDialog key={editing.id} identity={editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        opened={confirming}
        title={pending ? `${pending.action} ${pending.identity.name}?` : ''}
        confirmLabel={pending?.action ?? ''}
        danger={pending?.action !== 'Enable'}
        loading={act.isPending}
        error={act.error}
        onConfirm={() => pending && act.mutate(pending)}
        onClose={closeConfirm}
      >
        {pending && <ConfirmText {...pending} />}
      </ConfirmDialog>
    </Stack>
  );
}

function ConfirmText({ action, identity }: Pending) {
  switch (action) {
    case 'Disable':
      return <>{identity.name} can no longer sign in, its sessions end and its app tokens are refused until it is enabled again.</>;
    case 'Enable':
      return <>{identity.name} can sign in again and its app tokens that are not revoked or expired work again.</>;
    case 'Delete':
      return (
        <>
          {identity.name} is deleted with its sessions and all its app tokens; tokens granted with them are revoked. This cannot be undone.
        </>
      );
  }
}
