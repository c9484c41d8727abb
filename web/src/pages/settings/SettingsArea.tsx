import { NativeSelect, Stack, Tabs, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../../auth';
import { Empty } from '../../components/states';
import NotFoundPage from '../NotFoundPage';
import AuditPage from './AuditPage';
import { ChannelEditPage, ChannelNewPage, ChannelsPage } from './ChannelsPage';
import PurposesPage from './PurposesPage';
import { RequestNewPage, RequestPage, RequestsPage } from './RequestsPage';
import RetentionPage from './RetentionPage';
import SourcesPage from './SourcesPage';
import UsersPage from './UsersPage';
import { addAreaTexts } from '../../i18n';
import en from '../../locales/settings.en.json';
import th from '../../locales/settings.th.json';

addAreaTexts({ th, en });

interface Section {
  key: string;
  /** Any one of these opens the section. */
  permissions: string[];
  routes: ReactNode;
}

const SECTIONS: Section[] = [
  {
    key: 'sources',
    permissions: ['sources:manage', 'keys:manage'],
    routes: <Route path="sources" element={<SourcesPage />} />,
  },
  {
    key: 'channels',
    permissions: ['channels:manage'],
    routes: (
      <>
        <Route path="channels" element={<ChannelsPage />} />
        <Route path="channels/new" element={<ChannelNewPage />} />
        <Route path="channels/:name" element={<ChannelEditPage />} />
      </>
    ),
  },
  {
    key: 'purposes',
    permissions: ['consent:read'],
    routes: <Route path="purposes" element={<PurposesPage />} />,
  },
  {
    key: 'users',
    permissions: ['users:manage'],
    routes: <Route path="users" element={<UsersPage />} />,
  },
  {
    key: 'requests',
    permissions: ['privacy:requests'],
    routes: (
      <>
        <Route path="requests" element={<RequestsPage />} />
        <Route path="requests/new" element={<RequestNewPage />} />
        <Route path="requests/:id" element={<RequestPage />} />
      </>
    ),
  },
  {
    key: 'retention',
    permissions: ['retention:manage'],
    routes: <Route path="retention" element={<RetentionPage />} />,
  },
  {
    key: 'audit',
    permissions: ['audit:read'],
    routes: <Route path="audit" element={<AuditPage />} />,
  },
];

/** A section the role may not open: a notice instead of a page that fails. */
function NoPermission() {
  const { t } = useTranslation();
  return (
    <div data-testid="settings-no-permission">
      <Empty>{t('settings.noPermission')}</Empty>
    </div>
  );
}

/** The settings screens (nested routes under /settings/): a sub-navigation and the section. */
export default function SettingsArea() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const allowed = SECTIONS.filter((section) => section.permissions.some((p) => can(p)));
  const current = location.pathname.replace(/^\/settings\/?/, '').split('/')[0] ?? '';
  const go = (key: string | null) => {
    if (key && key !== current) navigate(`/settings/${key}`);
  };

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t('nav.settings')}
      </Title>
      {allowed.length === 0 ? (
        <NoPermission />
      ) : phone ? (
        <NativeSelect
          label={t('settings.nav.label')}
          value={allowed.some((s) => s.key === current) ? current : ''}
          onChange={(event) => go(event.currentTarget.value)}
          data={[
            ...(allowed.some((s) => s.key === current) ? [] : [{ value: '', label: '—' }]),
            ...allowed.map((section) => ({ value: section.key, label: t(`settings.nav.${section.key}`) })),
          ]}
          data-testid="settings-nav-select"
        />
      ) : (
        <Tabs value={allowed.some((s) => s.key === current) ? current : null} onChange={go} variant="outline">
          <Tabs.List aria-label={t('settings.nav.label')} data-testid="settings-nav">
            {allowed.map((section) => (
              <Tabs.Tab key={section.key} value={section.key} data-testid={`settings-tab-${section.key}`}>
                {t(`settings.nav.${section.key}`)}
              </Tabs.Tab>
            ))}
          </Tabs.List>
        </Tabs>
      )}
      <Routes>
        <Route
          index
          element={allowed[0] ? <Navigate to={`/settings/${allowed[0].key}`} replace /> : null}
        />
        {SECTIONS.map((section) =>
          allowed.includes(section) ? (
            <Route key={section.key}>{section.routes}</Route>
          ) : (
            <Route key={section.key} path={`${section.key}/*`} element={<NoPermission />} />
          ),
        )}
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Stack>
  );
}
