import type { ReactNode } from 'react';

/**
 * The box a table scrolls sideways in on a narrow window. Focusable and named, so a keyboard user can scroll it
 * with the arrow keys and a screen reader announces what it holds (axe: scrollable-region-focusable).
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    // Positioned, so a row's visually hidden text stays inside the scrolling box instead of widening the page.
    <div className="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
