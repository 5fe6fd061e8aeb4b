import type { Writable } from 'node:stream';

/**
 * A one-line progress bar redrawn in place on a terminal (stderr, so stdout stays the result). Redraws at
 * most every `intervalMs` and always at the end; `done()` clears the line so the summary starts clean.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: Writable,
    private readonly total: number,
    private readonly options: { width?: number; intervalMs?: number; now?: () => number } = {},
  ) {}

  update(done: number, note = ''): void {
    const now = (this.options.now ?? Date.now)();
    if (done < this.total && this.drawn && now - this.lastDraw < (this.options.intervalMs ?? 80)) return;
    this.lastDraw = now;
    this.drawn = true;
    const width = this.options.width ?? 28;
    const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    // \r and "erase line": the bar overwrites itself rather than scrolling.
    this.out.write(`\r\x1b[2K[${bar}] ${done}/${this.total}${note ? `  ${note}` : ''}`);
  }

  done(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
