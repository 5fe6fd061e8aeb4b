import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../components/ApiErrorAlert';
import { useSession } from '../session';

export function SignInPage({ notice }: { notice?: string }) {
  const { signIn } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in · AppToken Server';
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
    } catch (failure) {
      setError(errorText(failure));
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper component="main" withBorder shadow="sm" p="xl" radius="md" w="100%" maw={380}>
        <form onSubmit={(event) => void submit(event)} aria-labelledby="signin-title">
          <Stack>
            <Title order={1} size="h3" id="signin-title">AppToken Server</Title>
            <Text size="sm" c="dimmed">Sign in to manage app tokens.</Text>
            {notice && !error && <Alert color="blue" role="status">{notice}</Alert>}
            {error && <Alert color="red" role="alert" title="Sign-in failed">{error}</Alert>}
            <TextInput label="User name" name="username" autoComplete="username" required withAsterisk={false} autoFocus value={username} onChange={(e) => setUsername(e.currentTarget.value)} />
            <PasswordInput label="Password" name="password" autoComplete="current-password" required withAsterisk={false} value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
            <Button type="submit" loading={busy} fullWidth>Sign in</Button>
            <Text size="xs" c="dimmed">
              Scripts use the API: <Anchor href="/swagger" size="xs">API docs (Swagger)</Anchor>
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
