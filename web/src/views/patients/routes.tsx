import { Navigate, Route, Routes } from 'react-router';
import type { AreaRoute } from '../../area';
import { MANAGERS, STAFF } from '../../area';
import { useUser } from '../../session';
import { MyRecord } from './MyRecord';
import { EditPatientPage, NewPatientPage, PatientPage } from './PatientPage';
import { PatientsList } from './PatientsList';

/** Staff: search, record, register/edit/erase (admins), history and labs (doctors, admins). */
function Patients() {
  const manager = MANAGERS.includes(useUser().role);
  return (
    <Routes>
      <Route index element={<PatientsList />} />
      <Route path="new" element={manager ? <NewPatientPage /> : <Navigate to="/patients" replace />} />
      <Route path=":id" element={<PatientPage />} />
      <Route path=":id/edit" element={manager ? <EditPatientPage /> : <Navigate to=".." relative="path" replace />} />
    </Routes>
  );
}

export const routes: AreaRoute[] = [
  { path: 'patients/*', to: '/patients', label: 'Patients', roles: STAFF, element: <Patients /> },
  { path: 'my-record', to: '/my-record', label: 'My record', roles: ['PATIENT'], element: <MyRecord /> },
];
