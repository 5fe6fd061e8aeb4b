import { Stack, Text, Title } from '@mantine/core';

export function EndpointsPage() {
  return (
    <Stack>
      <Title order={2}>Endpoints</Title>
      <Text c="dimmed">Coming next.</Text>
    </Stack>
  );
}
