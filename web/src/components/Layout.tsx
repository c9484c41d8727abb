import {
  AppShell,
  Badge,
  Burger,
  Button,
  Center,
  Group,
  Loader,
  Menu,
  NavLink,
  Text,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Suspense, useEffect } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth';
import { setLanguage } from '../i18n';
import {
  HomeIcon,
  JourneyIcon,
  MegaphoneIcon,
  SegmentIcon,
  SettingsIcon,
  StoreIcon,
  TemplateIcon,
  UserIcon,
  UsersIcon,
} from './icons';

interface NavItem {
  to: string;
  key: string;
  testId: string;
  icon: ReactNode;
  exact?: boolean;
  /** shown only to roles with this permission */
  permission?: string;
}

const NAV: NavItem[] = [
  { to: '/', key: 'nav.home', testId: 'nav-home', icon: <HomeIcon size={18} />, exact: true },
  { to: '/customers', key: 'nav.customers', testId: 'nav-customers', icon: <UsersIcon size={18} /> },
  {
    to: '/segments',
    key: 'nav.segments',
    testId: 'nav-segments',
    icon: <SegmentIcon size={18} />,
    permission: 'segments:read',
  },
  {
    to: '/journeys',
    key: 'nav.journeys',
    testId: 'nav-journeys',
    icon: <JourneyIcon size={18} />,
    permission: 'journeys:read',
  },
  {
    to: '/campaigns',
    key: 'nav.campaigns',
    testId: 'nav-campaigns',
    icon: <MegaphoneIcon size={18} />,
    permission: 'messaging:read',
  },
  {
    to: '/templates',
    key: 'nav.templates',
    testId: 'nav-templates',
    icon: <TemplateIcon size={18} />,
    permission: 'messaging:read',
  },
  { to: '/store', key: 'nav.store', testId: 'nav-store', icon: <StoreIcon size={18} /> },
  { to: '/settings', key: 'nav.settings', testId: 'nav-settings', icon: <SettingsIcon size={18} /> },
];

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const current = i18n.resolvedLanguage === 'en' ? 'en' : 'th';
  const next = current === 'th' ? 'en' : 'th';
  return (
    <Button
      variant="default"
      size="compact-sm"
      onClick={() => setLanguage(next)}
      data-testid="lang-switch"
      data-lang={current}
      aria-label={t('header.switchLanguage')}
      lang={next}
    >
      {next === 'en' ? 'EN' : 'ไทย'}
    </Button>
  );
}

export function Layout() {
  const { t } = useTranslation();
  const { user, logout, can } = useAuth();
  const [opened, { toggle, close }] = useDisclosure(false);
  const location = useLocation();
  const navigate = useNavigate();

  // A phone's navbar closes once the reader has picked a page.
  useEffect(() => close(), [location.pathname, close]);

  const active = (to: string, exact?: boolean) =>
    exact ? location.pathname === to : location.pathname === to || location.pathname.startsWith(`${to}/`);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={t('header.menu')}
              data-testid="nav-burger"
            />
            <Title order={1} size="h3" c="teal.8" style={{ whiteSpace: 'nowrap' }}>
              <UnstyledButton component={Link} to="/" aria-label={t('header.homeLink')}>
                Sampan
              </UnstyledButton>
            </Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <LanguageSwitch />
            {user && (
              <Menu position="bottom-end" withinPortal shadow="md">
                <Menu.Target>
                  <Button
                    variant="subtle"
                    size="compact-sm"
                    leftSection={<UserIcon size={16} />}
                    data-testid="user-menu"
                    aria-label={t('header.userMenu', { name: user.name })}
                  >
                    <Text span size="sm" visibleFrom="xs" maw={160} truncate>
                      {user.name}
                    </Text>
                  </Button>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Label>{user.name}</Menu.Label>
                  <Group gap={6} px="sm" py={4}>
                    <Text size="sm">{t('header.role')}</Text>
                    <Badge variant="light" tt="none" data-testid="user-role">
                      {user.role ? t(`role.${user.role}`, { defaultValue: user.role }) : '–'}
                    </Badge>
                  </Group>
                  <Menu.Divider />
                  <Menu.Item
                    color="red"
                    data-testid="logout"
                    onClick={() => {
                      void logout().then(() => navigate('/login', { replace: true }));
                    }}
                  >
                    {t('header.logout')}
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
            )}
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="xs" aria-label={t('nav.label')}>
        <nav>
          {NAV.filter((item) => !item.permission || can(item.permission)).map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={t(item.key)}
              leftSection={item.icon}
              active={active(item.to, item.exact)}
              aria-current={active(item.to, item.exact) ? 'page' : undefined}
              data-testid={item.testId}
              variant="light"
              onClick={close}
            />
          ))}
        </nav>
      </AppShell.Navbar>

      <AppShell.Main>
        <Suspense
          fallback={
            <Center py="xl">
              <Loader />
            </Center>
          }
        >
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
