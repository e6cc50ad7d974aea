import { Route, Routes } from 'react-router';
import type { AreaRoute } from '../../area';
import { useUser } from '../../session';
import { MedicationDetail } from './MedicationDetail';
import { AddMedication } from './MedicationEditor';
import { MedicationsView } from './MedicationsView';
import { PrescriptionsView } from './PrescriptionsView';
import { CATALOGUE_READERS, canManageStock, PRESCRIPTION_READERS } from './roles';
import './pharmacy.css';

/** The catalogue, `new` (those who manage stock) and one medication by id. */
function Medications() {
  const user = useUser();
  return (
    <Routes>
      <Route index element={<MedicationsView />} />
      {canManageStock(user.role) && <Route path="new" element={<AddMedication />} />}
      <Route path=":id" element={<MedicationDetail />} />
      <Route path="*" element={<MedicationsView />} />
    </Routes>
  );
}

/** Prescriptions first: for a pharmacist the queue is the day's work (and so the start page). */
export const routes: AreaRoute[] = [
  { path: 'prescriptions', to: '/prescriptions', label: 'Prescriptions', roles: PRESCRIPTION_READERS, element: <PrescriptionsView /> },
  { path: 'medications/*', to: '/medications', label: 'Medications', roles: CATALOGUE_READERS, element: <Medications /> },
];
