import { Alert, Button, Checkbox, Group, Modal, NativeSelect, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, apiPage, isAdministrator, type AppToken, type Identity, type Me } from '../../api';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { CUSTOM_DATE, defaultExpiration, expirationChoices, expirationRequest, localDateInput, type LifetimePolicy } from './expiration';
import { TokenReveal } from './TokenReveal';
import './tokens.css';

const hint = { description: 'tokens-hint' };

const DAY_MS = 86_400_000;

export interface GrantTokenDialogProps {
  opened: boolean;
  me: Me;
  policy: LifetimePolicy | undefined;
  /** Administrators: the identity to preselect (from /tokens?grant=<id>). */
  identityId?: number;
  onClose(): void;
  /** A token was granted (the table refreshes). */
  onGranted(): void;
}

/** "Add New App Token": whom for (Administrators), which roles, how long, what for; then the token, once. */
export function GrantTokenDialog({ opened, me, policy, identityId, onClose, onGranted }: GrantTokenDialogProps) {
  const [granted, setGranted] = useState<AppToken | null>(null);
  const close = () => {
    setGranted(null);
    onClose();
  };
  return (
    <Modal
      opened={opened}
      onClose={close}
      title="Add New App Token"
      centered
      size="lg"
      // Once the token shows, a stray click outside must not lose it.
      closeOnClickOutside={!granted}
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      {granted?.token ? (
        <TokenReveal value={granted.token} onDone={close} />
      ) : (
        // Mounted afresh on each opening, so every grant starts from a clean form.
        opened && (
          <GrantForm
            me={me}
            policy={policy}
            identityId={identityId}
            onCancel={close}
            onGranted={(token) => {
              setGranted(token);
              onGranted();
            }}
          />
        )
      )}
    </Modal>
  );
}

interface GrantFormProps {
  me: Me;
  policy: LifetimePolicy | undefined;
  identityId?: number;
  onCancel(): void;
  onGranted(token: AppToken): void;
}

function GrantForm({ me, policy, identityId, onCancel, onGranted }: GrantFormProps) {
  const admin = isAdministrator(me);
  // Administrators start from an empty Identity (typing there must not append to the caller's name), unless
  // the Identities page's "Grant token" chose one.
  const [selectedId, setSelectedId] = useState<string | null>(admin ? (identityId === undefined ? null : String(identityId)) : String(me.id));
  const [identitySearch, setIdentitySearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(identitySearch, 250);
  const [roles, setRoles] = useState<string[]>([]);
  const [initialExpiration] = useState(() => defaultExpiration(policy));
  const [choice, setChoice] = useState(initialExpiration.choice);
  const [customDate, setCustomDate] = useState(initialExpiration.customDate);
  const [expirationTouched, setExpirationTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [formError, setFormError] = useState<string | null>(null);

  const choices = useMemo(() => expirationChoices(policy), [policy]);
  useEffect(() => {
    // The policy may arrive after the dialog opened: its default applies unless the user chose already.
    if (expirationTouched && choices.includes(choice)) return;
    const next = defaultExpiration(policy);
    setChoice(next.choice);
    setCustomDate(next.customDate);
    // Only a new policy resets it, not the user's own choice.
  }, [policy, choices]);

  // The identities to choose from (Administrators), searched on the server.
  const candidates = useQuery({
    queryKey: ['identities', 'grant-candidates', debouncedSearch],
    queryFn: () => apiPage<Identity>('identity', { search: debouncedSearch || undefined, pageSize: 20 }),
    enabled: admin,
  });
  // The selected identity itself, with its roles (it may not be among the search results).
  const selected = useQuery({
    queryKey: ['identity', selectedId],
    queryFn: () => api<Identity>(`identity/${selectedId}`),
    enabled: admin && selectedId !== null,
  });

  const grantable: string[] = useMemo(() => (admin ? (selected.data?.roles ?? []) : me.roles), [admin, selected.data, me.roles]);
  // Keep only checked roles the (newly) selected identity holds; its only role is checked for you.
  useEffect(() => {
    setRoles((current) => (grantable.length === 1 ? [...grantable] : current.filter((role) => grantable.includes(role))));
  }, [grantable]);

  const options = useMemo(() => {
    const list = (candidates.data?.items ?? []).map((identity) => ({ value: String(identity.id), label: identity.name }));
    if (selected.data && !list.some((option) => option.value === String(selected.data.id))) {
      list.unshift({ value: String(selected.data.id), label: selected.data.name });
    }
    return list;
  }, [candidates.data, selected.data]);

  const grant = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<AppToken>('apptoken/grant', { method: 'POST', body }),
    onSuccess: onGranted,
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    if (admin && selectedId === null) return setFormError('Choose the identity the token is for.');
    if (roles.length === 0) return setFormError('Choose at least one role.');
    const lifetime = expirationRequest(choice, customDate);
    if ('error' in lifetime) return setFormError(lifetime.error);
    grant.mutate({
      ...(admin ? { identity: { id: Number(selectedId) } } : {}),
      roles,
      ...lifetime,
      ...(description.trim() ? { description: description.trim() } : {}),
    });
  };

  const today = new Date();
  const maxDays = policy?.maxLifetimeDays ?? null;

  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm">
        {admin && (
          <Select
            label="Identity"
            description="Type to search identities"
            classNames={hint}
            data={options}
            value={selectedId}
            onChange={(value) => {
              setSelectedId(value);
              setFormError(null);
              grant.reset();
            }}
            searchable
            searchValue={identitySearch}
            onSearchChange={setIdentitySearch}
            nothingFoundMessage={candidates.isFetching ? 'Searching…' : 'No identity matches'}
            allowDeselect={false}
            required
            placeholder="Choose an identity"
            // Focus starts where typing is wanted: the empty Identity (non-admins: the first role; preselected: Expiration).
            data-autofocus={identityId === undefined || undefined}
            comboboxProps={{ withinPortal: true }}
          />
        )}
        <ApiErrorAlert error={selected.error ?? candidates.error} />
        <Checkbox.Group
          label="Roles"
          description={admin ? 'The roles the selected identity holds' : 'Your roles'}
          classNames={hint}
          value={roles}
          onChange={(next) => {
            setRoles(next);
            // The complaint about no role goes once one is checked.
            setFormError(null);
          }}
          required
        >
          <Stack gap={6} mt={6}>
            {grantable.map((role, index) => (
              <Checkbox key={role} value={role} label={role} data-autofocus={(index === 0 && !admin) || undefined} />
            ))}
            {grantable.length === 0 && !selected.isLoading && (
              <Text size="sm">
                {!admin ? 'You hold no role.' : selectedId === null ? 'Choose an identity first.' : 'This identity holds no role: give it one on the Identities page first.'}
              </Text>
            )}
          </Stack>
        </Checkbox.Group>
        <NativeSelect
          label="Expiration"
          data={choices}
          value={choice}
          onChange={(event) => {
            setChoice(event.currentTarget.value);
            setExpirationTouched(true);
          }}
          // A preselected identity's roles are still loading when the dialog opens: focus waits here for them.
          data-autofocus={(admin && identityId !== undefined) || undefined}
        />
        {choice === CUSTOM_DATE && (
          <TextInput
            type="date"
            label="Expiration date"
            description="The token works until the end of that day (your time zone)"
            classNames={hint}
            value={customDate}
            onChange={(event) => {
              setCustomDate(event.currentTarget.value);
              setExpirationTouched(true);
            }}
            min={localDateInput(today)}
            max={maxDays === null ? undefined : localDateInput(new Date(today.getTime() + (maxDays - 1) * DAY_MS))}
            required
          />
        )}
        <TextInput label="Description" placeholder="What the token is for" value={description} onChange={(event) => setDescription(event.currentTarget.value)} maxLength={1024} />
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <ApiErrorAlert error={grant.error} />
        <Group justify="flex-end" mt="xs">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button type="submit" loading={grant.isPending}>Grant App Token</Button>
        </Group>
      </Stack>
    </form>
  );
}
