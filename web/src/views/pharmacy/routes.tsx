import type { AreaRoute } from '../../area';
import { PageHeader } from '../../ui/status';

function Medications() {
  return <PageHeader title="Medications" />;
}

export const routes: AreaRoute[] = [{ path: 'medications/*', to: '/medications', label: 'Medications', roles: ['SUPER_ADMIN', 'ADMIN', 'PHARMACIST'], element: <Medications /> }];
