import { Stack, Text, Title } from '@mantine/core';

export function IdentitiesPage() {
  return (
    <Stack>
      <Title order={2}>Identities</Title>
      <Text c="dimmed">Coming next.</Text>
    </Stack>
  );
}
