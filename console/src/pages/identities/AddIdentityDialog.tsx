import { Button, Group, Modal, PasswordInput, Radio, Stack, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type Identity } from '../../api';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { IDENTITIES_KEY } from './keys';
import { RoleCheckboxes } from './RoleCheckboxes';

/** What POST /api/v1/identity requires of a local identity's password (PASSWORD_MIN_LENGTH on the server). */
export const PASSWORD_MIN_LENGTH = 8;

type Kind = 'local' | 'service';

export function AddIdentityDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('local');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<string[]>([]);

  const create = useMutation({
    mutationFn: () =>
      api<Identity>('identity', {
        method: 'POST',
        body: { name, source: kind, roles, ...(kind === 'local' ? { password } : {}) },
      }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: IDENTITIES_KEY });
      close();
    },
  });

  function close() {
    setName('');
    setKind('local');
    setPassword('');
    setRoles([]);
    create.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <Modal opened={opened} onClose={close} title="Add Identity" centered>
      <form onSubmit={submit}>
        <Stack>
          <TextInput
            label="Name"
            description="A user name or e-mail address for a person, or a name such as payroll-bot for a service."
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            autoComplete="off"
            data-autofocus
          />
          <Radio.Group label="Kind" value={kind} onChange={(value) => setKind(value as Kind)}>
            <Stack gap="xs" mt="xs">
              <Radio value="local" label="Local (password)" description="A person who signs in to the console." />
              <Radio value="service" label="Service (no password)" description="A script or service: it uses app tokens only." />
            </Stack>
          </Radio.Group>
          {kind === 'local' && (
            <PasswordInput
              label="Password"
              description={`At least ${PASSWORD_MIN_LENGTH} characters.`}
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              autoComplete="new-password"
            />
          )}
          <RoleCheckboxes value={roles} onChange={setRoles} />
          <ApiErrorAlert error={create.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>Cancel</Button>
            <Button type="submit" loading={create.isPending}>Create</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
