import { Button, Checkbox, Group, Loader, Modal, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type Role } from '../../api';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { anyMethod, ENDPOINTS_KEY, HTTP_METHODS, type EndpointRule } from './endpoint-rule';

export interface EndpointDialogProps {
  opened: boolean;
  /** The rule to edit; null: a new one. */
  rule: EndpointRule | null;
  onClose(): void;
}

/** "Add Endpoint" / edit: every field of a rule (url, methods, authentication, roles), as the API takes them. */
export function EndpointDialog({ opened, rule, onClose }: EndpointDialogProps) {
  return (
    <Modal opened={opened} onClose={onClose} title={rule ? 'Edit Endpoint' : 'Add Endpoint'} centered size="lg" closeButtonProps={{ 'aria-label': 'Close' }}>
      {/* Keyed so that every opening starts from the rule's values (or empty), not from the last attempt. */}
      {opened && <EndpointForm key={rule?.id ?? 'new'} rule={rule} onDone={onClose} />}
    </Modal>
  );
}

function EndpointForm({ rule, onDone }: { rule: EndpointRule | null; onDone(): void }) {
  const queries = useQueryClient();
  const [url, setUrl] = useState(rule?.url ?? '');
  const [methods, setMethods] = useState<string[]>(rule && !anyMethod(rule) ? rule.method : []);
  const [authentication, setAuthentication] = useState(rule?.authentication ?? true);
  const [roles, setRoles] = useState<string[]>(rule?.role ?? []);
  const roleList = useQuery({ queryKey: ['role', 'list'], queryFn: () => api<Role[]>('role') });

  const save = useMutation({
    mutationFn: () => {
      // No method checked: any method ("*"); a rule without authentication asks for no token, so no roles.
      const body = { url: url.trim(), method: methods.length > 0 ? methods : ['*'], authentication, role: authentication ? roles : [] };
      return rule ? api<EndpointRule>(`endpoint/${rule.id}`, { method: 'PUT', body }) : api<EndpointRule>('endpoint', { method: 'POST', body });
    },
    onSuccess: async () => {
      await Promise.all([queries.invalidateQueries({ queryKey: ENDPOINTS_KEY }), queries.invalidateQueries({ queryKey: ['audit'] })]);
      onDone();
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <TextInput
          label="URL"
          description={'A path pattern: literal segments, ":name" for one segment, "*" last for the rest (/payroll/*, /users/:id)'}
          placeholder="/payroll/*"
          value={url}
          onChange={(event) => setUrl(event.currentTarget.value)}
          required
          data-autofocus
          autoComplete="off"
          spellCheck={false}
        />
        <Checkbox.Group label="Methods" description="None checked: any method" value={methods} onChange={setMethods}>
          <Group gap="md" mt={6}>
            {HTTP_METHODS.map((method) => (
              <Checkbox key={method} value={method} label={method} />
            ))}
          </Group>
        </Checkbox.Group>
        <Switch
          label="Authentication"
          description="On: callers need a valid app token. Off: anyone may call it, with no token (and no roles apply)"
          checked={authentication}
          onChange={(event) => setAuthentication(event.currentTarget.checked)}
        />
        <Checkbox.Group
          label="Roles"
          description="A token needs one of these; none checked: any valid token. Administrator does not bypass this list."
          value={authentication ? roles : []}
          onChange={setRoles}
        >
          <Group gap="md" mt={6}>
            {roleList.isPending && <Loader size="xs" aria-label="Loading roles" />}
            {roleList.data?.map((role) => (
              <Checkbox key={role.id} value={role.name} label={role.name} disabled={!authentication} />
            ))}
          </Group>
        </Checkbox.Group>
        {!authentication && (
          <Text size="sm">
            Without authentication the rule asks for no token, so it takes no roles.
          </Text>
        )}
        <ApiErrorAlert error={roleList.error} />
        <ApiErrorAlert error={save.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {rule ? 'Save' : 'Create'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
