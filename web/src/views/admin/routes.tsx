import { Route, Routes } from 'react-router';
import type { AreaRoute } from '../../area';
import { AuditLogView } from './AuditLogView';
import { UserDetail } from './UserDetail';
import { UsersView } from './UsersView';

/**
 * The super admin's area. Only SUPER_ADMIN may list or manage users and read the audit trail
 * (subgraphs/accounts/access.ts): an admin gets neither.
 */
function Users() {
  return (
    <Routes>
      <Route index element={<UsersView />} />
      <Route path=":id" element={<UserDetail />} />
    </Routes>
  );
}

export const routes: AreaRoute[] = [
  { path: 'users/*', to: '/users', label: 'Users', roles: ['SUPER_ADMIN'], element: <Users /> },
  { path: 'audit-log', to: '/audit-log', label: 'Audit log', roles: ['SUPER_ADMIN'], element: <AuditLogView /> },
];
