import type { AreaRoute } from '../../area';
import { MANAGERS } from '../../area';
import { ReportsView } from './ReportsView';

/** Reports are for the super admin and admins (subgraphs/analytics/access.ts). */
export const routes: AreaRoute[] = [{ path: 'reports/*', to: '/reports', label: 'Reports', roles: MANAGERS, element: <ReportsView /> }];
