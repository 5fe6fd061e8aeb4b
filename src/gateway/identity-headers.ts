/**
 * A header value carrying a name: printable ASCII as is; anything else (and "%") percent-encoded as
 * UTF-8, so a name like "José" reaches the upstream intact and no name can inject a header line.
 */
export function headerValue(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]/gu, (char) => encodeURIComponent(char));
}
