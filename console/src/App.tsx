import { Center, Loader } from '@mantine/core';
import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { AdminOnly } from './components/AdminOnly';
import { AuditPage } from './pages/AuditPage';
import { EndpointsPage } from './pages/EndpointsPage';
import { IdentitiesPage } from './pages/IdentitiesPage';
import { RolesPage } from './pages/RolesPage';
import { SignInPage } from './pages/SignInPage';
import { TokensPage } from './pages/TokensPage';
import { useSession } from './session';

export function App() {
  const { state } = useSession();
  if (state.status === 'loading') {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  // Signed out, every address shows the sign-in form and keeps its URL, so signing in lands on the page the
  // user asked for (or was on when the session expired).
  if (state.status === 'signed-out') return <SignInPage notice={state.notice} />;
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Navigate to="/tokens" replace />} />
        <Route path="/tokens" element={<TokensPage />} />
        <Route path="/identities" element={<AdminOnly><IdentitiesPage /></AdminOnly>} />
        <Route path="/roles" element={<AdminOnly><RolesPage /></AdminOnly>} />
        <Route path="/endpoints" element={<AdminOnly><EndpointsPage /></AdminOnly>} />
        <Route path="/audit" element={<AdminOnly><AuditPage /></AdminOnly>} />
        <Route path="*" element={<Navigate to="/tokens" replace />} />
      </Routes>
    </Layout>
  );
}
