import type { AreaRoute } from '../../area';
import { MANAGERS } from '../../area';
import { PageHeader } from '../../ui/status';

function Doctors() {
  return <PageHeader title="Doctors" />;
}

export const routes: AreaRoute[] = [{ path: 'doctors/*', to: '/doctors', label: 'Doctors', roles: MANAGERS, element: <Doctors /> }];
