import { Alert } from '@mantine/core';
import { ApiError } from '../api';

function titleOf(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong';
  switch (error.status) {
    case 0: return 'No connection';
    case 400: case 422: return 'Not accepted';
    case 403: return 'Not allowed';
    case 404: return 'Not found';
    case 409: return 'Conflict';
    case 429: return 'Too many requests';
    default: return error.status >= 500 ? 'Server error' : 'Refused';
  }
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    // The API's throttling messages usually say the wait already; add it only where they do not.
    const saysWait = /\d+\s*(s\b|second)/i.test(error.message);
    return error.retryAfter && !saysWait ? `${error.message} (try again in ${error.retryAfter} s)` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** What the API said, as an alert (a 403 is a message, never a broken page). */
export function ApiErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" title={titleOf(error)} role="alert" my="sm">
      {errorText(error)}
    </Alert>
  );
}
