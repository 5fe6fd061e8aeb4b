import { Alert, Button, Group, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { apiResponse, ApiError } from '../../api';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { HTTP_METHODS } from './endpoint-rule';

interface Question {
  token: string;
  method: string;
  path: string;
}

type Outcome =
  | { kind: 'allowed'; status: number; name: string | null; id: string | null; roles: string | null }
  | { kind: 'denied' | 'forbidden' | 'bad-request'; status: number; message: string };

/**
 * Asks forward-auth (GET /api/v1/apptoken/verify) what a token would get for a method and path, exactly as
 * nginx's auth_request asks it: the original request in X-Original-Method / X-Original-URI, the token as a
 * Bearer header (never in the URL). The route ignores the session cookie, and a 401 here is the token's, not
 * the session's (expect401).
 */
async function ask({ token, method, path }: Question): Promise<Outcome> {
  const headers: Record<string, string> = { 'X-Original-Method': method, 'X-Original-URI': path };
  if (token.trim()) headers.Authorization = `Bearer ${token.trim()}`;
  try {
    const response = await apiResponse('apptoken/verify', { headers, expect401: true });
    const get = (name: string) => response.headers.get(name);
    return { kind: 'allowed', status: response.status, name: get('X-Identity-Name'), id: get('X-Identity-Id'), roles: get('X-Identity-Roles') };
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 401) return { kind: 'denied', status: 401, message: error.message };
      if (error.status === 403) return { kind: 'forbidden', status: 403, message: error.message };
      if (error.status === 400) return { kind: 'bad-request', status: 400, message: error.message };
    }
    throw error;
  }
}

const TITLES = { denied: 'Denied (401)', forbidden: 'Forbidden (403)', 'bad-request': 'Bad request (400)' } as const;

function OutcomeView({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === 'allowed') {
    return (
      <Alert color="green" title={`Allowed (${outcome.status})`}>
        {outcome.name ? (
          <Stack gap={2}>
            <Text size="sm">
              Identity: <strong>{outcome.name}</strong>
              {outcome.id && ` (id ${outcome.id})`}
            </Text>
            <Text size="sm">Roles: {outcome.roles || 'none'}</Text>
          </Stack>
        ) : (
          <Text size="sm">Allowed without a token: the rule asks for none (authentication off).</Text>
        )}
      </Alert>
    );
  }
  return (
    <Alert color={outcome.kind === 'bad-request' ? 'orange' : 'red'} title={TITLES[outcome.kind]}>
      {outcome.message}
    </Alert>
  );
}

/** The "Test" box: what would a gateway let through for this token, method and path? */
export function EndpointTest() {
  const [token, setToken] = useState('');
  const [method, setMethod] = useState<string>('GET');
  const [path, setPath] = useState('');
  // The token is held only in this form's state and the request's header; nothing is cached or logged.
  const test = useMutation({ mutationFn: ask, gcTime: 0 });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    test.mutate({ token, method, path: path.trim() });
  };

  return (
    <Stack component="section" aria-labelledby="endpoint-test-title" gap="sm">
      <Title order={3} id="endpoint-test-title">
        Test
      </Title>
      <Text size="sm">
        Asks the forward-auth route what a gateway would be told for this token, method and path. An allowed test
        counts as a use of the token (its Last used changes).
      </Text>
      <form onSubmit={submit} aria-label="Test" noValidate>
        <Stack gap="sm">
          <TextInput
            label="Token"
            type="password"
            description="An app token; leave empty to test without one"
            value={token}
            onChange={(event) => setToken(event.currentTarget.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <Group align="flex-end" gap="sm" wrap="wrap">
            <NativeSelect label="Method" data={[...HTTP_METHODS]} value={method} onChange={(event) => setMethod(event.currentTarget.value)} w={130} />
            <TextInput
              label="Path"
              placeholder="/payroll/2026/11"
              value={path}
              onChange={(event) => setPath(event.currentTarget.value)}
              required
              autoComplete="off"
              spellCheck={false}
              style={{ flex: '1 1 14rem' }}
            />
            <Button type="submit" loading={test.isPending}>
              Test
            </Button>
          </Group>
        </Stack>
      </form>
      <div role="status" aria-live="polite">
        {test.data && <OutcomeView outcome={test.data} />}
      </div>
      <ApiErrorAlert error={test.error} />
    </Stack>
  );
}
