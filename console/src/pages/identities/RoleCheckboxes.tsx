import { Checkbox, Group, Loader, Stack } from '@mantine/core';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { useRoles } from '../roles/useRoles';

/** One checkbox per role, labelled with the role's name (a contract: tests find them by name). */
export function RoleCheckboxes({ value, onChange }: { value: string[]; onChange(value: string[]): void }) {
  const roles = useRoles();
  if (roles.isPending) return <Loader size="sm" aria-label="Loading roles" />;
  if (roles.isError) return <ApiErrorAlert error={roles.error} />;
  return (
    <Checkbox.Group label="Roles" description="An identity may hold none, one or several." value={value} onChange={onChange}>
      <Stack gap="xs" mt="xs">
        <Group gap="md">
          {roles.data.map((role) => (
            <Checkbox key={role.id} value={role.name} label={role.name} />
          ))}
        </Group>
      </Stack>
    </Checkbox.Group>
  );
}
