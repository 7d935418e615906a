import {
  ActionIcon,
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  NavLink,
  Text,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconAlarm,
  IconArrowsExchange,
  IconCalendarTime,
  IconChartBar,
  IconListDetails,
  IconLogout,
  IconMoon,
  IconPlayerPause,
  IconPlus,
  IconSkull,
  IconSun,
} from '../ui/icons';
import { NavLink as RouterLink, Outlet, useLocation } from 'react-router';
import { LiveIndicator } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { PauseBanner } from '../pauses/pause-banner';
import { usePauses } from '../pauses/pauses-context';

const LINKS = [
  { to: '/', label: 'Overview', icon: IconChartBar, end: true },
  { to: '/jobs', label: 'Jobs', icon: IconListDetails, end: false },
  { to: '/schedules', label: 'Schedules', icon: IconCalendarTime, end: false },
  { to: '/dead-letters', label: 'Dead letters', icon: IconSkull, end: false },
  { to: '/new', label: 'New job', icon: IconPlus, end: false },
  { to: '/data', label: 'Imports & exports', icon: IconArrowsExchange, end: false },
  { to: '/timers', label: 'Timers', icon: IconAlarm, end: false },
  { to: '/pauses', label: 'Pauses', icon: IconPlayerPause, end: false },
];

/** Beside the Pauses link: how much is paused, so that held work is never a surprise. */
function PausedCount() {
  const { pauses } = usePauses();
  if (!pauses) return null;
  if (pauses.tenant) {
    return (
      <Badge size="sm" color="orange" variant="filled" data-testid="paused-count">
        tenant
      </Badge>
    );
  }
  if (pauses.types.length === 0) return null;
  return (
    <Badge
      size="sm"
      color="orange"
      variant="light"
      data-testid="paused-count"
      aria-label={`${pauses.types.length} paused`}
    >
      {pauses.types.length}
    </Badge>
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} mode`}>
      <ActionIcon
        variant="default"
        size="lg"
        aria-label={`Switch to ${next} mode`}
        onClick={() => setColorScheme(next)}
      >
        {scheme === 'dark' ? <IconSun size={18} /> : <IconMoon size={18} />}
      </ActionIcon>
    </Tooltip>
  );
}

export function AppLayout() {
  const { tenantId, signOut } = useSession();
  const [opened, { toggle, close }] = useDisclosure(false);
  const location = useLocation();

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Text fw={700} size="lg">
              jobline
            </Text>
            <LiveIndicator />
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Badge variant="outline" visibleFrom="xs" data-testid="tenant">
              tenant {tenantId}
            </Badge>
            <ColorSchemeToggle />
            <Button
              variant="default"
              leftSection={<IconLogout size={16} />}
              onClick={() => signOut()}
              px="sm"
              aria-label="Sign out"
            >
              <Text visibleFrom="sm" span size="sm">
                Sign out
              </Text>
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Views">
        {LINKS.map(({ to, label, icon: Icon, end }) => (
          <NavLink
            key={to}
            component={RouterLink}
            to={to}
            end={end}
            label={label}
            leftSection={<Icon size={18} stroke={1.5} />}
            rightSection={to === '/pauses' ? <PausedCount /> : undefined}
            active={end ? location.pathname === to : location.pathname.startsWith(to)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <PauseBanner />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
