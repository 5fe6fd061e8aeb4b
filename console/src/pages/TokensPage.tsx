import { Stack, Text, Title } from '@mantine/core';

export function TokensPage() {
  return (
    <Stack>
      <Title order={2}>Tokens</Title>
      <Text c="dimmed">Coming next.</Text>
    </Stack>
  );
}
