import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { addressRefusal, webhookTarget, type WebhookTarget } from './address-policy.js';

/** Stored per attempt: enough of the receiver's answer to debug it (the column holds 1,024 characters). */
export const RESPONSE_EXCERPT_CHARS = 1024;
const ERROR_CHARS = 512;
const USER_AGENT = 'AppToken-Server-Webhooks/1.0 (+Standard Webhooks)';

/** A URL refused by the address policy: 400 at save, a failed attempt at delivery. */
export class WebhookUrlRefused extends Error {
  override name = 'WebhookUrlRefused';
}

/** A host name that does not resolve (now): a failed attempt at delivery, but no reason to refuse saving it. */
export class WebhookHostUnresolved extends Error {
  override name = 'WebhookHostUnresolved';
}

export interface SendResult {
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
  /** The receiver's Retry-After, in seconds, when it gave one. */
  retryAfterSeconds: number | undefined;
}

/** The address a request goes to, judged: the one the socket connects to, whatever DNS answers afterwards. */
interface Destination {
  target: WebhookTarget;
  address: string;
  family: 4 | 6;
}

function lookupAll(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => {
      signal.removeEventListener('abort', onAbort);
      if (error) reject(new WebhookHostUnresolved(`${host} does not resolve (${error.code ?? error.message})`));
      else resolve(addresses);
    });
  });
}

/**
 * POSTs webhook deliveries under the SSRF policy (WEBHOOK_ALLOWED_HOSTS): the host is resolved, every address
 * it has is judged, and the connection goes to the first of those very addresses (the request's `lookup`
 * answers with it), so a DNS answer that changes between the check and the connect (rebinding) changes
 * nothing. Redirects are never followed: a 3xx is a failed attempt. No proxy from the environment is used.
 */
@Injectable()
export class WebhookSender {
  /** The resolver (all addresses of a name); replaceable in unit tests, which have no DNS of their own. */
  resolve: (host: string, signal: AbortSignal) => Promise<LookupAddress[]> = lookupAll;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Checks a URL for saving: its form, and every address its host has now. Throws WebhookUrlRefused. A name
   * that does not resolve yet (or not from here, or not within 5 s) is accepted: every delivery judges it again.
   */
  async check(url: string): Promise<void> {
    const limit = deadline(5000);
    try {
      await this.destination(url, limit.signal);
    } catch (error) {
      if (error instanceof WebhookHostUnresolved || limit.signal.aborted) return;
      throw error;
    } finally {
      limit.clear();
    }
  }

  private async destination(url: string, signal: AbortSignal): Promise<Destination> {
    let target: WebhookTarget;
    try {
      target = webhookTarget(url);
    } catch (error) {
      throw new WebhookUrlRefused((error as Error).message);
    }
    const addresses: LookupAddress[] = target.family === 0 ? await this.resolve(target.host, signal) : [{ address: target.host, family: target.family }];
    if (addresses.length === 0) throw new WebhookUrlRefused(`${target.host} has no address`);
    for (const { address } of addresses) {
      const refusal = addressRefusal(this.config.webhooks.allowedHosts, target.host, address);
      if (refusal !== undefined) throw new WebhookUrlRefused(refusal);
    }
    return { target, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
  }

  /** One attempt: never throws; the outcome is in the result. `signal` aborts it (shutdown). */
  async send(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const limit = deadline(this.config.webhooks.timeoutSeconds * 1000, signal);
    const attempt = limit.signal;
    try {
      const destination = await this.destination(url, attempt);
      const response = await this.post(destination, headers, body, attempt);
      const statusCode = response.statusCode;
      return {
        statusCode,
        responseBody: response.body,
        error: statusCode >= 300 && statusCode < 400 ? 'redirect not followed: update the webhook URL' : null,
        durationMs: elapsed(),
        retryAfterSeconds: retryAfter(response.retryAfter),
      };
    } catch (error) {
      const message =
        attempt.aborted && !signal.aborted
          ? `no answer within ${this.config.webhooks.timeoutSeconds} s`
          : signal.aborted
            ? 'interrupted: this instance is shutting down'
            : (error as Error).message || String(error);
      return { statusCode: null, responseBody: null, error: message.slice(0, ERROR_CHARS), durationMs: elapsed(), retryAfterSeconds: undefined };
    } finally {
      limit.clear();
    }
  }

  private post(destination: Destination, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<{ statusCode: number; body: string; retryAfter: string | undefined }> {
    const { target, address, family } = destination;
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const client = target.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(
        {
          method: 'POST',
          protocol: target.url.protocol,
          hostname: target.host,
          port: target.url.port === '' ? undefined : Number(target.url.port),
          path: `${target.url.pathname}${target.url.search}`,
          headers: { ...headers, 'user-agent': USER_AGENT, 'content-length': String(Buffer.byteLength(body)) },
          // A literal address is connected to as is; a name through the address judged above.
          lookup: target.family === 0 ? pinned : undefined,
          agent: false,
          signal,
        },
        (response: IncomingMessage) => {
          let text = '';
          const finish = () => {
            response.destroy();
            resolve({ statusCode: response.statusCode ?? 0, body: excerpt(text), retryAfter: header(response.headers['retry-after']) });
          };
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
            if (text.length >= RESPONSE_EXCERPT_CHARS) finish();
          });
          response.on('end', finish);
          response.on('error', finish);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What the column can hold: no NUL (PostgreSQL text refuses it), at most the excerpt's length. */
function excerpt(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').slice(0, RESPONSE_EXCERPT_CHARS);
}

/** Retry-After as seconds or an HTTP date. */
function retryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.round((at - Date.now()) / 1000));
}

/**
 * An abort signal that fires after `ms` (or with `outer`), from a plain timer this frame holds. Not
 * `AbortSignal.any([outer, AbortSignal.timeout(ms)])`: on Node 20 the timeout signal inside `any` is only weakly
 * held, and once garbage-collected it never fires (nodejs/node#57736), so a receiver that accepted the
 * connection and never answered kept a delivery slot forever (found from outside: four such attempts stopped
 * every delivery of the instance).
 */
export function deadline(ms: number, outer?: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  const onOuter = () => controller.abort(outer!.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}
