/** The frame of every signed-in page: the header with the farm's pages, the inbox badge, sign-out. */
import { NavLink, Outlet, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import { useAlarms } from '../api/alarms';
import { useFarms, useInbox } from '../api/queries';
import { useMe, useSession } from '../auth/session';

export function Layout() {
  const me = useMe();
  const { signOut } = useSession();
  const farms = useFarms();
  const inbox = useInbox();
  const params = useParams();
  const farmId = params.farmId ?? farms.data?.items[0]?.farm_id;
  const unread = inbox.data?.unread_count ?? 0;
  // The same query as the alarms page and the banner: one request for the three.
  const alarms = useAlarms(farmId, 'open');
  const critical = (alarms.data?.items ?? []).filter((a) => a.state !== 'cleared' && a.severity === 'critical').length;
  const nav = ({ isActive }: { isActive: boolean }) => (isActive ? 'active' : undefined);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ▲
          </span>
          FarmIQ <span className="tenant">{me.tenant_name}</span>
        </div>
        <nav aria-label="Main">
          {farmId && (
            <>
              <NavLink to={`/farms/${farmId}`} end className={nav}>
                Overview
              </NavLink>
              <NavLink to={`/farms/${farmId}/alarms`} className={nav} aria-label={`Alarms, ${critical} critical open`}>
                Alarms
                {critical > 0 && (
                  <span className="badge critical" data-testid="critical-badge">
                    {critical}
                  </span>
                )}
              </NavLink>
              <NavLink to={`/farms/${farmId}/insights`} className={nav}>
                Insights
              </NavLink>
            </>
          )}
          <NavLink to="/inbox" className={nav} aria-label={`Inbox, ${unread} unread`}>
            Inbox
            {unread > 0 && (
              <span className="badge" data-testid="unread-badge">
                {unread}
              </span>
            )}
          </NavLink>
          {hasRole(me.role, 'admin') && (
            <NavLink to="/admin" className={nav}>
              Admin
            </NavLink>
          )}
        </nav>
        <div className="who">
          <NavLink to="/account" className="user" title={me.email} aria-label={`Your account: ${me.display_name ?? me.email}, ${me.role}`}>
            <span className="user-name">
              {me.display_name ?? me.email} · <span className="role">{me.role}</span>
            </span>
            {/* On a phone the name does not fit: the link stays, as one word. */}
            <span className="user-short">Account</span>
          </NavLink>
          <button type="button" className="ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <Outlet />
      </main>
    </div>
  );
}
