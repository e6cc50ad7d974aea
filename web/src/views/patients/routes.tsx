import type { AreaRoute } from '../../area';
import { STAFF } from '../../area';
import { PageHeader } from '../../ui/status';

function Patients() {
  return <PageHeader title="Patients" />;
}

export const routes: AreaRoute[] = [{ path: 'patients/*', to: '/patients', label: 'Patients', roles: STAFF, element: <Patients /> }];
