import { Modal, NumberInput, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type AppToken } from '../../api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { TokenReveal } from './TokenReveal';
import './tokens.css';

export type TokenAction = 'Revoke' | 'Rotate' | 'Delete';

/** How a token is named in a dialog: its identity, and its description when it has one. */
export function tokenLabel(token: AppToken): string {
  const who = token.identity?.name ?? 'unknown identity';
  return token.description ? `${who}'s token "${token.description}"` : `${who}'s token #${token.id}`;
}

const MAX_GRACE_SECONDS = 604_800;

/**
 * The confirmation of a row's action (its confirm button repeats the action's name), and after a rotation
 * the new token, shown once.
 */
export function TokenActionDialogs({ pending, onClose, onChanged }: { pending: { action: TokenAction; token: AppToken } | null; onClose(): void; onChanged(): void }) {
  const [grace, setGrace] = useState<number | string>(0);
  const [rotated, setRotated] = useState<AppToken | null>(null);

  const act = useMutation({
    mutationFn: async ({ action, token }: { action: TokenAction; token: AppToken }) => {
      switch (action) {
        case 'Revoke':
          return api<AppToken>(`apptoken/${token.id}/revoke`, { method: 'POST' });
        case 'Rotate':
          return api<AppToken>(`apptoken/${token.id}/rotate`, { method: 'POST', body: { graceSeconds: Number(grace) || 0 } });
        case 'Delete':
          return api<void>(`apptoken/${token.id}`, { method: 'DELETE' });
      }
    },
    onSuccess: (result, { action }) => {
      onChanged();
      if (action === 'Rotate' && result) setRotated(result);
      finish();
    },
  });

  const finish = () => {
    act.reset();
    setGrace(0);
    onClose();
  };

  const action = pending?.action;
  const token = pending?.token;
  return (
    <>
      <ConfirmDialog
        opened={pending !== null}
        title={action ? `${action} app token` : ''}
        confirmLabel={action ?? ''}
        danger={action !== 'Rotate'}
        loading={act.isPending}
        error={act.error}
        onConfirm={() => pending && act.mutate(pending)}
        onClose={finish}
      >
        {token && action === 'Revoke' && <Text size="sm">Revoke {tokenLabel(token)}? It stops working at once, everywhere, and cannot be restored.</Text>}
        {token && action === 'Delete' && <Text size="sm">Delete {tokenLabel(token)}? It is revoked and removed from the list.</Text>}
        {token && action === 'Rotate' && (
          <Stack gap="sm">
            <Text size="sm">
              Rotate {tokenLabel(token)}? You get a new token with the same identity, roles and lifetime; the old one stops working after the grace period.
            </Text>
            <NumberInput
              label="Grace period (seconds)"
              description="How long the old token keeps working (0: revoked now; at most 7 days)"
              classNames={{ description: 'tokens-hint' }}
              value={grace}
              onChange={setGrace}
              min={0}
              max={MAX_GRACE_SECONDS}
              allowDecimal={false}
              allowNegative={false}
              clampBehavior="strict"
            />
          </Stack>
        )}
      </ConfirmDialog>
      <Modal opened={rotated !== null} onClose={() => setRotated(null)} title="Rotated App Token" centered size="lg" closeOnClickOutside={false} closeButtonProps={{ 'aria-label': 'Close' }}>
        {rotated?.token && <TokenReveal value={rotated.token} onDone={() => setRotated(null)} />}
      </Modal>
    </>
  );
}
