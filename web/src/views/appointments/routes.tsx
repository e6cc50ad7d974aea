import { Route, Routes } from 'react-router';
import type { AreaRoute } from '../../area';
import { STAFF } from '../../area';
import { BookView } from './BookView';
import { CalendarView } from './CalendarView';
import { MyVisitsView } from './MyVisitsView';

/** Staff: the calendar (day/week, per doctor or clinic) and booking at appointments/book. */
function StaffArea() {
  return (
    <Routes>
      <Route path="book" element={<BookView />} />
      <Route path="*" element={<CalendarView />} />
    </Routes>
  );
}

/** A patient: their visits and booking for themselves at visits/book. */
function PatientArea() {
  return (
    <Routes>
      <Route path="book" element={<BookView />} />
      <Route path="*" element={<MyVisitsView />} />
    </Routes>
  );
}

export const routes: AreaRoute[] = [
  { path: 'appointments/*', to: '/appointments', label: 'Appointments', roles: STAFF, element: <StaffArea /> },
  { path: 'visits/*', to: '/visits', label: 'My visits', roles: ['PATIENT'], element: <PatientArea /> },
];
