/**
 * The routes. A page a role may not use is not routed for it at all (viewer and operator have no
 * /admin); inside pages, writing controls are rendered for operator+ (or admin) only. The API
 * refuses them anyway.
 */
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { hasRole } from './api/client';
import { useFarms } from './api/queries';
import { SessionProvider, useSession } from './auth/session';
import { ErrorNote, Loading } from './components/ErrorNote';
import { Layout } from './components/Layout';
import { AccountPage } from './pages/Account';
import { AdminLayout } from './pages/admin/AdminLayout';
import { AlarmPage } from './pages/alarms/AlarmPage';
import { AlarmsPage } from './pages/alarms/AlarmsPage';
import { DevicesAdmin } from './pages/admin/DevicesAdmin';
import { FarmServersAdmin } from './pages/admin/FarmServersAdmin';
import { FarmsAdmin } from './pages/admin/FarmsAdmin';
import { UsersAdmin } from './pages/admin/UsersAdmin';
import { BarnPage } from './pages/BarnPage';
import { FarmOverview } from './pages/FarmOverview';
import { InboxPage } from './pages/Inbox';
import { InsightPage, InsightsPage } from './pages/Insights';
import { SignIn } from './pages/SignIn';

/** `/`: the first farm's overview. */
function FirstFarm() {
  const farms = useFarms();
  if (farms.isPending) return <Loading what="your farms" />;
  if (farms.isError) return <ErrorNote error={farms.error} what="Your farms could not be loaded" />;
  const first = farms.data.items[0];
  if (!first) return <p className="card">No farm yet. An admin adds farms under Admin → Farms &amp; barns.</p>;
  return <Navigate to={`/farms/${first.farm_id}`} replace />;
}

function SignedIn() {
  const { me } = useSession();
  const admin = hasRole(me?.role, 'admin');
  return (
    <Routes>
      <Route path="/sign-in" element={<Navigate to="/" replace />} />
      <Route element={<Layout />}>
        <Route index element={<FirstFarm />} />
        <Route path="farms/:farmId" element={<FarmOverview />} />
        <Route path="farms/:farmId/barns/:barnId" element={<BarnPage />} />
        <Route path="farms/:farmId/alarms" element={<AlarmsPage />} />
        <Route path="farms/:farmId/alarms/:alarmId" element={<AlarmPage />} />
        <Route path="farms/:farmId/insights" element={<InsightsPage />} />
        <Route path="farms/:farmId/insights/:insightId" element={<InsightPage />} />
        <Route path="inbox" element={<InboxPage />} />
        <Route path="account" element={<AccountPage />} />
        {admin && (
          <Route path="admin" element={<AdminLayout />}>
            <Route index element={<Navigate to="farms" replace />} />
            <Route path="farms" element={<FarmsAdmin />} />
            <Route path="devices" element={<DevicesAdmin />} />
            <Route path="farm-servers" element={<FarmServersAdmin />} />
            <Route path="users" element={<UsersAdmin />} />
          </Route>
        )}
        <Route path="*" element={<p className="card">This page does not exist{admin ? '' : ' (or your role may not open it)'}.</p>} />
      </Route>
    </Routes>
  );
}

function Gate() {
  const { me } = useSession();
  if (me === undefined) return <Loading what="your session" />;
  if (me === null) return <SignIn />;
  return <SignedIn />;
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Gate />
      </SessionProvider>
    </BrowserRouter>
  );
}
