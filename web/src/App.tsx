import { ApolloProvider, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState, type ReactNode } from 'react';
import { HashRouter, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { clientFor } from './apollo';
import type { AreaRoute } from './area';
import type { Role } from './gql/graphql';
import { ClinicSettingsDocument, LogoutDocument } from './operations';
import { getClinicZone, setClinicZone } from './time';
import { Loading } from './ui/status';
import { sessionStore, useSession, type Session } from './session';
import { routes as adminRoutes } from './views/admin/routes';
import { routes as appointmentRoutes } from './views/appointments/routes';
import { routes as doctorRoutes } from './views/doctors/routes';
import { LiveFeedProvider } from './views/notifications/live';
import { routes as notificationRoutes, UnreadBadge } from './views/notifications/routes';
import { LoginView } from './views/login/LoginView';
import { routes as patientRoutes } from './views/patients/routes';
import { routes as pharmacyRoutes } from './views/pharmacy/routes';
import { routes as reportRoutes } from './views/reports/routes';

/** Every area, in menu order. */
const AREAS: readonly AreaRoute[] = [...appointmentRoutes, ...patientRoutes, ...doctorRoutes, ...pharmacyRoutes, ...reportRoutes, ...adminRoutes, ...notificationRoutes];

const ROLE_NAME: Record<Role, string> = {
  SUPER_ADMIN: 'Super admin',
  ADMIN: 'Admin',
  DOCTOR: 'Doctor',
  NURSE: 'Nurse',
  PHARMACIST: 'Pharmacist',
  PATIENT: 'Patient',
};

function SignOutButton({ session }: { session: Session }) {
  const [logout] = useMutation(LogoutDocument);
  return (
    <button
      type="button"
      className="btn btn-outline-light btn-sm"
      id="sign-out"
      onClick={() => {
        // The session ends here at once; telling the server is best effort.
        void logout({ variables: { refreshToken: session.refreshToken } }).catch(() => undefined);
        sessionStore.set(null);
      }}
    >
      Sign out
    </button>
  );
}

/** Renders its children once the clinic's time zone is known (times before that would be off). */
function ClinicZone({ children }: { children: ReactNode }) {
  const { data, error } = useQuery(ClinicSettingsDocument, { fetchPolicy: 'cache-first' });
  const zone = data?.clinic.timeZone;
  if (zone && zone !== getClinicZone()) setClinicZone(zone);
  if (!zone && !error) return <Loading what="Loading the clinic's settings" />;
  return <>{children}</>;
}

function Shell({ session }: { session: Session }) {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setOpen(false), [location.pathname]);
  const mine = AREAS.filter((a) => a.roles.includes(session.user.role));
  const home = mine.find((a) => a.menu !== false)?.to ?? '/notifications';
  return (
    <>
      <nav className="navbar navbar-expand-xl navbar-dark bg-clinic" aria-label="Main">
        <div className="container-fluid">
          <span className="navbar-brand">HealthSync</span>
          <button className="navbar-toggler" type="button" aria-controls="main-menu" aria-expanded={open} aria-label="Menu" onClick={() => setOpen(!open)}>
            <span className="navbar-toggler-icon" />
          </button>
          <div className={`collapse navbar-collapse${open ? ' show' : ''}`} id="main-menu">
            <ul className="navbar-nav me-auto" id="nav">
              {mine
                .filter((a) => a.menu !== false)
                .map((a) => (
                  <li className="nav-item" key={a.to}>
                    <NavLink className="nav-link" to={a.to} onClick={() => setOpen(false)}>
                      {a.label}
                      {a.to === '/notifications' && <UnreadBadge />}
                    </NavLink>
                  </li>
                ))}
            </ul>
            <div className="d-flex flex-wrap align-items-center gap-2 py-2 py-xl-0">
              <span className="navbar-text text-white small text-truncate" id="who" title={session.user.email}>
                <span className="d-xl-none d-xxl-inline">{session.user.email} · </span>
                {ROLE_NAME[session.user.role]}
              </span>
              <SignOutButton session={session} />
            </div>
          </div>
        </div>
      </nav>
      <main className="container-lg py-3 py-md-4">
        <ClinicZone>
          <Routes>
            {mine.map((a) => (
              <Route key={a.path} path={a.path} element={a.element} />
            ))}
            <Route path="*" element={<Navigate to={home} replace />} />
          </Routes>
        </ClinicZone>
      </main>
    </>
  );
}

/** Signed in: one Apollo Client for this session (dropped with its cache at sign-out). */
function SignedIn({ session }: { session: Session }) {
  return (
    <ApolloProvider client={clientFor(session.user.id)}>
      <LiveFeedProvider>
        <Shell session={session} />
      </LiveFeedProvider>
    </ApolloProvider>
  );
}

/** Signed out: a client without a session, for signing in only. */
function SignedOut() {
  return (
    <ApolloProvider client={clientFor('signed-out')}>
      <LoginView />
    </ApolloProvider>
  );
}

export function App() {
  const session = useSession();
  return <HashRouter>{session ? <SignedIn key={session.user.id} session={session} /> : <SignedOut />}</HashRouter>;
}
