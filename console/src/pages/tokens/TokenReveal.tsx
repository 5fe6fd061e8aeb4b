import { Alert, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';

/**
 * A new token's value, shown once: a read-only field, a Copy button (the clipboard API where the browser
 * allows it, otherwise the text is selected for Ctrl+C) and the warning that it will not be shown again.
 */
export function TokenReveal({ value, onDone }: { value: string; onDone(): void }) {
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('');

  // The form it replaces had focus: put it on the token, selected, so it is read out and one Ctrl+C away.
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  const selectText = () => {
    input.current?.focus();
    input.current?.select();
  };

  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard API (not a secure context)');
      await navigator.clipboard.writeText(value);
      setStatus('Copied');
    } catch {
      selectText();
      // The old way still works in most browsers on plain HTTP; if not, the selected text is one Ctrl+C away.
      const copied = document.queryCommandSupported?.('copy') && document.execCommand('copy');
      setStatus(copied ? 'Copied' : 'Selected: press Ctrl+C (⌘C) to copy');
    }
  };

  return (
    <Stack gap="sm">
      <Alert color="yellow" title="Copy the token now" role="alert">
        This token will not be shown again. Store it somewhere safe; if it is lost, rotate or revoke it and grant a new one.
      </Alert>
      <TextInput
        ref={input}
        label="Token"
        value={value}
        readOnly
        data-autofocus
        onFocus={(event) => event.currentTarget.select()}
        classNames={{ input: 'mono' }}
        spellCheck={false}
        autoComplete="off"
      />
      <Group justify="space-between" gap="xs">
        <Group gap="xs">
          <Button variant="default" onClick={() => void copy()}>Copy</Button>
          <Text size="sm" role="status" aria-live="polite">{status}</Text>
        </Group>
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}
