import { Injectable } from '@nestjs/common';

/**
 * Whether the process is shutting down. Set at SIGTERM/SIGINT, before the grace period in which the
 * server still serves, so that readiness turns 503 at once and a load balancer takes this instance out.
 */
@Injectable()
export class ShutdownState {
  private since: number | undefined;

  get draining(): boolean {
    return this.since !== undefined;
  }

  begin(): void {
    this.since ??= Date.now();
  }
}
