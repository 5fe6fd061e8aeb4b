import { Stack, Text, Title } from '@mantine/core';

export function RolesPage() {
  return (
    <Stack>
      <Title order={2}>Roles</Title>
      <Text c="dimmed">Coming next.</Text>
    </Stack>
  );
}
