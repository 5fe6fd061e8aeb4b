import { ActionIcon, Box, Burger, Button, Group, NavLink, Text, Title, useComputedColorScheme, useMantineColorScheme, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect, useRef, type MouseEvent, type ReactNode } from 'react';
import { NavLink as RouterLink, useLocation } from 'react-router';
import { isAdministrator } from '../api';
import { useMe, useSession } from '../session';

const PAGES = [
  { to: '/tokens', label: 'Tokens', admin: false },
  { to: '/identities', label: 'Identities', admin: true },
  { to: '/roles', label: 'Roles', admin: true },
  { to: '/endpoints', label: 'Endpoints', admin: true },
  { to: '/audit', label: 'Audit', admin: true },
];

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light');
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <ActionIcon variant="default" size="lg" onClick={() => setColorScheme(next)} aria-label={`Use ${next} colours`} title={`Use ${next} colours`}>
      <span aria-hidden="true">{computed === 'dark' ? '☀' : '☾'}</span>
    </ActionIcon>
  );
}

/** Focuses the page's heading (focusable by script only), or the main element when it has none. */
function focusPage(main: HTMLElement | null) {
  const heading = main?.querySelector<HTMLElement>('h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  } else {
    main?.focus();
  }
}

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const { signOut } = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const admin = isAdministrator(me);
  const pages = PAGES.filter((page) => admin || !page.admin);

  const main = useRef<HTMLElement>(null);
  const firstPage = useRef(true);

  useEffect(() => {
    close();
    const page = PAGES.find((p) => location.pathname.startsWith(p.to));
    document.title = page ? `${page.label} · AppToken Server` : 'AppToken Server';
    // A client-side page change says nothing to a screen reader and leaves focus on the link: move it to the
    // new page's heading (else its main), unless a dialog the page opened (/tokens?grant=) holds it.
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    const frame = requestAnimationFrame(() => {
      if (document.querySelector('[role="dialog"]')) return;
      focusPage(main.current);
    });
    return () => cancelAnimationFrame(frame);
  }, [location.pathname, close]);

  const skipToContent = (event: MouseEvent<HTMLAnchorElement>) => {
    // Handled here, not by the browser: a "#main" in the address would be a navigation of the router's.
    event.preventDefault();
    main.current?.focus();
  };

  // Mantine's AppShell writes its responsive sizes into a <style> element, which the CSP refuses: the shell's
  // layout is plain CSS in console.css instead.
  return (
    <div className="shell" data-nav-open={opened || undefined}>
      <a href="#main" className="skip-link" onClick={skipToContent}>Skip to content</a>
      <Box component="header" className="shell-header">
        <Group h="100%" px="sm" gap="xs" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} aria-expanded={opened} aria-controls="main-navigation" />
            <Title order={1} size="h4" className="nowrap">AppToken Server</Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Text size="sm" visibleFrom="xs" truncate="end" maw={220}>
              <VisuallyHidden>Signed in as </VisuallyHidden>
              {me.name}
            </Text>
            <ColorSchemeToggle />
            <Button variant="default" onClick={() => void signOut()}>Sign out</Button>
          </Group>
        </Group>
      </Box>
      <Box component="nav" id="main-navigation" className="shell-nav" p="xs" aria-label="Main">
        {pages.map((page) => (
          <NavLink key={page.to} component={RouterLink} to={page.to} label={page.label} active={location.pathname.startsWith(page.to)} />
        ))}
        <NavLink href="/swagger" label="API docs (Swagger)" target="_blank" rel="noopener" />
      </Box>
      <Box component="main" id="main" ref={main} tabIndex={-1} className="shell-main" p="md">
        {children}
      </Box>
    </div>
  );
}
