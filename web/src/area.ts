import type { ReactElement } from 'react';
import type { Role } from './gql/graphql';

/**
 * One entry of the app's menu and its routes. Each views/<area>/routes.tsx exports its entries;
 * App.tsx shows an entry only to the roles listed (what the graph lets them do: it refuses the
 * rest anyway). `path` is the route under `#/` (may end in `/*` for the area's own sub-routes),
 * `to` the menu link.
 */
export interface AreaRoute {
  path: string;
  to: string;
  label: string;
  roles: readonly Role[];
  element: ReactElement;
  /** Listed in the menu (false: reachable by link only). */
  menu?: boolean;
}

export const STAFF: readonly Role[] = ['SUPER_ADMIN', 'ADMIN', 'DOCTOR', 'NURSE'];
export const MANAGERS: readonly Role[] = ['SUPER_ADMIN', 'ADMIN'];
export const EVERYONE: readonly Role[] = ['SUPER_ADMIN', 'ADMIN', 'DOCTOR', 'NURSE', 'PHARMACIST', 'PATIENT'];
