import { Route, Routes } from 'react-router';
import type { AreaRoute } from '../../area';
import { MANAGERS } from '../../area';
import { DoctorPage, NewDoctorPage } from './DoctorPage';
import { DoctorsList } from './DoctorsList';

/** Admins: the doctors list, creating and editing doctors, their weekly schedules. */
function Doctors() {
  return (
    <Routes>
      <Route index element={<DoctorsList />} />
      <Route path="new" element={<NewDoctorPage />} />
      <Route path=":id" element={<DoctorPage />} />
    </Routes>
  );
}

export const routes: AreaRoute[] = [{ path: 'doctors/*', to: '/doctors', label: 'Doctors', roles: MANAGERS, element: <Doctors /> }];
