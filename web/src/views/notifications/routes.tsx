import { EVERYONE, type AreaRoute } from '../../area';
import { UnreadBadge } from './live';
import { NotificationsView } from './NotificationsView';

export const routes: AreaRoute[] = [
  {
    path: 'notifications',
    to: '/notifications',
    label: 'Notifications',
    roles: EVERYONE,
    element: <NotificationsView />,
  },
];

export { UnreadBadge };
