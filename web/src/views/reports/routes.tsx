import type { AreaRoute } from '../../area';
import { MANAGERS } from '../../area';
import { PageHeader } from '../../ui/status';

function Reports() {
  return <PageHeader title="Reports" />;
}

export const routes: AreaRoute[] = [{ path: 'reports/*', to: '/reports', label: 'Reports', roles: MANAGERS, element: <Reports /> }];
