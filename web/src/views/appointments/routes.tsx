import type { AreaRoute } from '../../area';
import { STAFF } from '../../area';
import { PageHeader } from '../../ui/status';

function Calendar() {
  return <PageHeader title="Appointments" />;
}

export const routes: AreaRoute[] = [{ path: 'appointments/*', to: '/appointments', label: 'Appointments', roles: STAFF, element: <Calendar /> }];
