import { Button, Group, Stack, Switch, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, apiPage, isAdministrator, type AppToken } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { TableScroll } from '../components/TableScroll';
import { Pager, usePaging } from '../components/Pager';
import { SortableTh, type Sort } from '../components/SortableTh';
import { formatDate } from '../format';
import { formatDay } from './tokens/format-day';
import { useMe } from '../session';
import type { LifetimePolicy } from './tokens/expiration';
import { GrantTokenDialog } from './tokens/GrantTokenDialog';
import { TokenActionDialogs, tokenLabel, type TokenAction } from './tokens/TokenActionDialogs';

type SortField = 'identity' | 'description' | 'created' | 'expiration' | 'lastUsed';

/** Roles that may rotate (the API answers 403 to anyone else). */
const ROTATORS = ['Administrator', 'Operator'];

function RevokedCell({ token }: { token: AppToken }) {
  if (token.revoked) {
    return (
      <Stack gap={2}>
        <Text size="sm" fw={600} c="red.9">Revoked</Text>
        <Text size="xs" title={token.revokedDate ?? undefined}>{formatDay(token.revokedDate)}</Text>
      </Stack>
    );
  }
  // A rotated token in its grace period: revoked, but not yet.
  if (token.revokedDate) {
    return (
      <Stack gap={2}>
        <Text size="sm">No</Text>
        <Text size="xs" title={token.revokedDate}>Ends {formatDate(token.revokedDate)}</Text>
      </Stack>
    );
  }
  return <Text size="sm">No</Text>;
}

function ExpirationCell({ expiration }: { expiration: string | null }) {
  if (!expiration) return <Text size="sm">Never</Text>;
  const expired = Date.parse(expiration) <= Date.now();
  return (
    <Text size="sm" title={expiration} c={expired ? 'red' : undefined}>
      {formatDay(expiration)}
      {expired && ' (expired)'}
    </Text>
  );
}

export function TokensPage() {
  const me = useMe();
  const admin = isAdministrator(me);
  const queries = useQueryClient();
  const [params, setParams] = useSearchParams();

  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search.trim(), 300);
  const [showRevoked, setShowRevoked] = useState(false);
  const [sort, setSort] = useState<Sort<SortField>>({ field: 'created', direction: 'desc' });
  const { page, pageSize, setPage, pagerProps } = usePaging(20);
  const [grantOpen, setGrantOpen] = useState(false);
  const [pending, setPending] = useState<{ action: TokenAction; token: AppToken } | null>(null);

  // /tokens?grant=<identityId> (the Identities page's "grant a token to one") opens the dialog for that identity.
  const grantParam = params.get('grant');
  const grantFor = grantParam !== null && /^\d+$/.test(grantParam) ? Number(grantParam) : undefined;
  const dialogOpen = grantOpen || grantParam !== null;

  const closeGrant = () => {
    setGrantOpen(false);
    if (grantParam !== null) {
      setParams(
        (current) => {
          current.delete('grant');
          return current;
        },
        { replace: true },
      );
    }
  };

  const list = useQuery({
    queryKey: ['apptokens', { page, pageSize, search: debouncedSearch, showRevoked, sort }],
    queryFn: () =>
      apiPage<AppToken>('apptoken', {
        page,
        pageSize,
        search: debouncedSearch || undefined,
        revoked: showRevoked ? undefined : false,
        sort: sort.field,
        order: sort.direction,
      }),
    placeholderData: keepPreviousData,
  });
  const policy = useQuery({ queryKey: ['apptoken-policy'], queryFn: () => api<LifetimePolicy>('apptoken/policy'), staleTime: Infinity });

  const refresh = () => void queries.invalidateQueries({ queryKey: ['apptokens'] });
  const mayRotate = me.roles.some((role) => ROTATORS.includes(role));
  const tokens = list.data?.items ?? [];
  const total = list.data?.total ?? 0;

  const sortable = (label: string, field: SortField) => (
    <SortableTh
      label={label}
      field={field}
      sort={sort}
      onSort={(next) => {
        setSort(next);
        setPage(1);
      }}
    />
  );

  return (
    <Stack gap="sm">
      <Group justify="space-between" align="flex-end" gap="sm">
        <div>
          <Title order={2}>Tokens</Title>
          <Text size="sm">{admin ? 'App tokens of every identity.' : 'Your app tokens.'}</Text>
        </div>
        <Button onClick={() => setGrantOpen(true)}>Add New App Token</Button>
      </Group>

      <Group gap="md" align="flex-end">
        <TextInput
          label="Search"
          placeholder={admin ? 'Description or identity' : 'Description'}
          value={search}
          onChange={(event) => {
            setSearch(event.currentTarget.value);
            setPage(1);
          }}
          type="search"
          w={260}
          maw="100%"
        />
        <Switch
          label="Show revoked"
          checked={showRevoked}
          onChange={(event) => {
            setShowRevoked(event.currentTarget.checked);
            setPage(1);
          }}
          mb={8}
        />
      </Group>

      <ApiErrorAlert error={list.error ?? policy.error} />

      <TableScroll label="App tokens table">
        <Table aria-label="App tokens" striped highlightOnHover verticalSpacing="xs" aria-busy={list.isFetching || undefined}>
          <Table.Thead>
            <Table.Tr>
              {sortable('Identity', 'identity')}
              {sortable('Description', 'description')}
              <Table.Th>Roles</Table.Th>
              {sortable('Created', 'created')}
              {sortable('Expiration', 'expiration')}
              {sortable('Last used', 'lastUsed')}
              <Table.Th>Revoked</Table.Th>
              <Table.Th className="actions-cell">Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.map((token) => {
              const context = `token-${token.id}-context`;
              return (
                <Table.Tr key={token.id} data-token-id={token.id}>
                  <Table.Td miw={100}>{token.identity?.name ?? '—'}</Table.Td>
                  <Table.Td miw={120} maw={280}>{token.description || '—'}</Table.Td>
                  <Table.Td className="keep-words">{token.roles.join(', ')}</Table.Td>
                  <Table.Td title={token.created} className="nowrap">{formatDay(token.created)}</Table.Td>
                  <Table.Td className="nowrap"><ExpirationCell expiration={token.expiration} /></Table.Td>
                  <Table.Td title={token.lastUsed ? formatDate(token.lastUsed) : undefined} className="nowrap">{formatDay(token.lastUsed, 'Never')}</Table.Td>
                  <Table.Td className="nowrap"><RevokedCell token={token} /></Table.Td>
                  <Table.Td className="actions-cell nowrap">
                    <VisuallyHidden id={context}>{tokenLabel(token)}</VisuallyHidden>
                    <Group gap={4} wrap="nowrap">
                      <Button size="compact-sm" variant="light" color="orange" disabled={token.revoked} aria-describedby={context} onClick={() => setPending({ action: 'Revoke', token })}>
                        Revoke
                      </Button>
                      <Button size="compact-sm" variant="light" disabled={token.revoked || !mayRotate} aria-describedby={context} onClick={() => setPending({ action: 'Rotate', token })}>
                        Rotate
                      </Button>
                      <Button size="compact-sm" variant="light" color="red" aria-describedby={context} onClick={() => setPending({ action: 'Delete', token })}>
                        Delete
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
            {tokens.length === 0 && !list.isPending && (
              <Table.Tr>
                <Table.Td colSpan={8}>
                  <Text size="sm" ta="center" py="md">
                    {debouncedSearch ? 'No token matches the search.' : showRevoked ? 'No tokens yet.' : 'No active tokens. Turn on "Show revoked" to see revoked ones.'}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </TableScroll>

      <Pager {...pagerProps(total, 'token', 'tokens')} />

      <GrantTokenDialog opened={dialogOpen} me={me} policy={policy.data} identityId={admin ? grantFor : undefined} onClose={closeGrant} onGranted={refresh} />
      <TokenActionDialogs pending={pending} onClose={() => setPending(null)} onChanged={refresh} />
    </Stack>
  );
}
