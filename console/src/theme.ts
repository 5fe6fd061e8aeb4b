import { createTheme, Drawer, Modal } from '@mantine/core';

/**
 * Mantine's default theme (its variables are in styles.css, so nothing is generated at run time) and
 * the system font stack: nothing is fetched from elsewhere.
 */
export const theme = createTheme({
  components: {
    // Scroll locking injects a <style> element (react-remove-scroll), which the CSP refuses; the overlay
    // still covers the page and focus stays trapped in the dialog.
    // The close (×) button has no text: name it for screen readers (axe: button-name).
    Modal: Modal.extend({ defaultProps: { lockScroll: false, closeButtonProps: { 'aria-label': 'Close' } } }),
    Drawer: Drawer.extend({ defaultProps: { lockScroll: false, closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});
