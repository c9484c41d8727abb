import { Center, createTheme, Loader, MantineProvider } from '@mantine/core';
import { lazy, Suspense } from 'react';
import type { ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { AuthProvider, useAuth } from './auth';
import { Layout } from './components/Layout';
import { LoginPage } from './pages/LoginPage';

// Pages load on first visit; the chart library only comes with the home page.
const HomePage = lazy(() => import('./pages/HomePage'));
const CustomersPage = lazy(() => import('./pages/CustomersPage'));
const CustomerPage = lazy(() => import('./pages/CustomerPage'));
const StorePage = lazy(() => import('./pages/StorePage'));
const SegmentsPage = lazy(() => import('./pages/SegmentsPage'));
const SegmentEditorPage = lazy(() => import('./pages/SegmentEditorPage'));
const SegmentInsightsPage = lazy(() => import('./pages/SegmentInsightsPage'));
const SegmentPage = lazy(() => import('./pages/SegmentPage'));
const JourneysArea = lazy(() => import('./pages/journeys/JourneysArea'));
const CampaignsArea = lazy(() => import('./pages/messaging/CampaignsArea'));
const TemplatesArea = lazy(() => import('./pages/messaging/TemplatesArea'));
const SettingsArea = lazy(() => import('./pages/settings/SettingsArea'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'));

const FONT = "'Noto Sans', 'Noto Sans Thai', system-ui, sans-serif";

const theme = createTheme({
  primaryColor: 'teal',
  fontFamily: FONT,
  headings: { fontFamily: FONT },
  defaultRadius: 'md',
});

function PageLoader() {
  return (
    <Center py="xl">
      <Loader />
    </Center>
  );
}

/** Pages for signed-in users only: anyone else goes to /login and comes back after. */
function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'checking') return <PageLoader />;
  if (status === 'signed-out') {
    const from = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to="/login" replace state={{ from }} />;
  }
  return <>{children}</>;
}

export function App() {
  return (
    <MantineProvider theme={theme} defaultColorScheme="light">
      <BrowserRouter>
        <AuthProvider>
          <Suspense fallback={<PageLoader />}>
            <Routes>
              <Route path="/login" element={<LoginPage />} />
              <Route
                element={
                  <RequireAuth>
                    <Layout />
                  </RequireAuth>
                }
              >
                <Route index element={<HomePage />} />
                <Route path="customers" element={<CustomersPage />} />
                <Route path="customers/:id" element={<CustomerPage />} />
                <Route path="store" element={<StorePage />} />
                <Route path="segments" element={<SegmentsPage />} />
                <Route path="segments/new" element={<SegmentEditorPage />} />
                <Route path="segments/insights" element={<SegmentInsightsPage />} />
                <Route path="segments/:id/edit" element={<SegmentEditorPage />} />
                <Route path="segments/:id" element={<SegmentPage />} />
                <Route path="journeys/*" element={<JourneysArea />} />
                <Route path="campaigns/*" element={<CampaignsArea />} />
                <Route path="templates/*" element={<TemplatesArea />} />
                <Route path="settings/*" element={<SettingsArea />} />
                <Route path="*" element={<NotFoundPage />} />
              </Route>
            </Routes>
          </Suspense>
        </AuthProvider>
      </BrowserRouter>
    </MantineProvider>
  );
}
