import { Stack, Text, Title } from '@mantine/core';

export function AuditPage() {
  return (
    <Stack>
      <Title order={2}>Audit</Title>
      <Text c="dimmed">Coming next.</Text>
    </Stack>
  );
}
