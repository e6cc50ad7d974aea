import type { AreaRoute } from '../../area';
import { PageHeader } from '../../ui/status';

function Users() {
  return <PageHeader title="Users" />;
}

export const routes: AreaRoute[] = [{ path: 'users/*', to: '/users', label: 'Users', roles: ['SUPER_ADMIN'], element: <Users /> }];
