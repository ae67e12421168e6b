/** The admin pages (admin role only: the router does not even render them for anyone else). */
import { NavLink, Outlet } from 'react-router-dom';

export function AdminLayout() {
  const nav = ({ isActive }: { isActive: boolean }) => (isActive ? 'active' : undefined);
  return (
    <>
      <div className="page-head">
        <h1>Admin</h1>
        <nav className="subnav" aria-label="Admin">
          <NavLink to="/admin/farms" className={nav}>
            Farms &amp; barns
          </NavLink>
          <NavLink to="/admin/devices" className={nav}>
            Devices
          </NavLink>
          <NavLink to="/admin/farm-servers" className={nav}>
            Farm servers
          </NavLink>
          <NavLink to="/admin/users" className={nav}>
            Users
          </NavLink>
        </nav>
      </div>
      <Outlet />
    </>
  );
}
