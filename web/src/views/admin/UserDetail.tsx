import { useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { problemOf, UserMessage } from '../../errors';
import type { AdminUserQuery, Role } from '../../gql/graphql';
import { useUser } from '../../session';
import { dateTimeIn, getClinicZone } from '../../time';
import { BusyButton, ConfirmButton, SubmitButton } from '../../ui/buttons';
import { ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { MIN_PASSWORD, ROLES, roleLabel } from './labels';
import { PasswordField } from './PasswordField';
import {
  AdminDeactivateUserDocument,
  AdminLinkUserToDoctorDocument,
  AdminLinkUserToPatientDocument,
  AdminReactivateUserDocument,
  AdminResetPasswordDocument,
  AdminSetUserRoleDocument,
  AdminUserDocument,
} from './operations';
import { DoctorPicker } from '../../ui/DoctorPicker';
import { PatientPicker } from '../../ui/PatientPicker';
import type { Picked } from '../../ui/pickers';

type User = AdminUserQuery['user'];

function RoleSection({ user, say }: { user: User; say: (text: string) => void }) {
  const [role, setRole] = useState<Role>(user.role);
  useEffect(() => setRole(user.role), [user.role]);
  const [setUserRole] = useMutation(AdminSetUserRoleDocument);
  const action = useAction(async (key: string) => {
    const result = await setUserRole({ variables: { id: user.id, role }, context: { idempotencyKey: key } });
    if (result.data) say(`${user.email} is now ${roleLabel(result.data.setUserRole.role).toLowerCase()}. The new role applies from their next sign-in or session renewal.`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run();
  };
  return (
    <section className="card card-body mb-3" aria-labelledby="role-title">
      <h2 className="h5" id="role-title">
        Role
      </h2>
      <form className="row g-2 align-items-end" id="role-form" onSubmit={submit}>
        <div className="col-12 col-md-6">
          <label className="form-label" htmlFor="user-role">
            Role
          </label>
          <select id="user-role" className="form-select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div className="col-12 col-md-auto">
          <SubmitButton busy={action.busy} disabled={role === user.role}>
            Change role
          </SubmitButton>
        </div>
      </form>
      {(role === 'PATIENT' || role === 'DOCTOR') && role !== user.role && <p className="form-text mb-0">After the change, link the user to their {role === 'PATIENT' ? 'patient record' : 'doctor profile'} below.</p>}
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
    </section>
  );
}

function AccessSection({ user, say }: { user: User; say: (text: string) => void }) {
  const me = useUser();
  const [deactivate] = useMutation(AdminDeactivateUserDocument);
  const [reactivate] = useMutation(AdminReactivateUserDocument);
  const off = useAction(async (key: string) => {
    await deactivate({ variables: { id: user.id }, context: { idempotencyKey: key } });
    say(`${user.email} is deactivated: they can no longer sign in, and their open sessions have ended.`);
  });
  const on = useAction(async (key: string) => {
    await reactivate({ variables: { id: user.id }, context: { idempotencyKey: key } });
    say(`${user.email} is active again and can sign in.`);
  });
  return (
    <section className="card card-body mb-3" aria-labelledby="access-title">
      <h2 className="h5" id="access-title">
        Access
      </h2>
      <p id="user-status">{user.active ? 'Active: this user can sign in.' : 'Deactivated: this user cannot sign in.'}</p>
      {me.id === user.id ? (
        <p className="text-muted mb-0">You cannot deactivate yourself.</p>
      ) : user.active ? (
        <ConfirmButton label="Deactivate" question={`Deactivate ${user.email}? They are signed out everywhere.`} confirmLabel="Yes, deactivate" busy={off.busy} onConfirm={() => void off.run()} />
      ) : (
        <div>
          <BusyButton className="btn btn-outline-primary" busy={on.busy} onClick={() => void on.run()}>
            Reactivate
          </BusyButton>
        </div>
      )}
      <ErrorAlert problem={off.problem ?? on.problem} onDismiss={() => (off.clear(), on.clear())} />
    </section>
  );
}

function PasswordSection({ user, say }: { user: User; say: (text: string) => void }) {
  const [password, setPassword] = useState('');
  const [reset] = useMutation(AdminResetPasswordDocument);
  const action = useAction(async (key: string) => {
    if (password.length < MIN_PASSWORD) throw new UserMessage(`The new password must be at least ${MIN_PASSWORD} characters long.`);
    await reset({ variables: { id: user.id, newPassword: password }, context: { idempotencyKey: key } });
    setPassword('');
    say(`The password of ${user.email} was reset and their sessions have ended. They sign in with the new password.`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run();
  };
  return (
    <section className="card card-body mb-3" aria-labelledby="password-title">
      <h2 className="h5" id="password-title">
        Password
      </h2>
      <form className="row g-2 align-items-end" id="reset-password-form" onSubmit={submit}>
        <div className="col-12 col-md-6">
          <PasswordField id="user-new-password" label="New password" value={password} onChange={setPassword} />
        </div>
        <div className="col-12 col-md-auto">
          <SubmitButton busy={action.busy}>Reset password</SubmitButton>
        </div>
        <div className="col-12 form-text mt-1" id="user-new-password-help">
          At least {MIN_PASSWORD} characters. Their open sessions end at once.
        </div>
      </form>
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
    </section>
  );
}

function LinkSection({ user, say }: { user: User; say: (text: string) => void }) {
  const [picked, setPicked] = useState<Picked | null>(null);
  const [toPatient] = useMutation(AdminLinkUserToPatientDocument);
  const [toDoctor] = useMutation(AdminLinkUserToDoctorDocument);
  const action = useAction(async (key: string) => {
    if (!picked) throw new UserMessage(user.role === 'PATIENT' ? 'Choose a patient first.' : 'Choose a doctor first.');
    if (user.role === 'PATIENT') await toPatient({ variables: { userId: user.id, patientId: picked.id }, context: { idempotencyKey: key } });
    else await toDoctor({ variables: { userId: user.id, doctorId: picked.id }, context: { idempotencyKey: key } });
    setPicked(null);
    say(`${user.email} is now linked to ${picked.name}.`);
  });
  if (user.role !== 'PATIENT' && user.role !== 'DOCTOR') {
    return (
      <section className="card card-body mb-3" aria-labelledby="link-title">
        <h2 className="h5" id="link-title">
          Linked record
        </h2>
        <p className="text-muted mb-0">Only patient users (to a patient record) and doctor users (to a doctor profile) are linked. Change the role first to link this user.</p>
      </section>
    );
  }
  const current = user.role === 'PATIENT' ? user.patient : user.doctor;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run();
  };
  return (
    <section className="card card-body mb-3" aria-labelledby="link-title">
      <h2 className="h5" id="link-title">
        {user.role === 'PATIENT' ? 'Linked patient record' : 'Linked doctor profile'}
      </h2>
      <p id="user-link">{current ? `Linked to ${current.name}.` : 'Not linked yet: link the user so they see their own information.'}</p>
      <form id="link-form" onSubmit={submit}>
        {user.role === 'PATIENT' ? <PatientPicker value={picked} onChange={setPicked} label="Patient" /> : <DoctorPicker value={picked} onChange={setPicked} />}
        <SubmitButton className="btn btn-primary mt-2" busy={action.busy} disabled={!picked}>
          {current ? 'Change link' : 'Link'}
        </SubmitButton>
      </form>
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
    </section>
  );
}

/** One user: role, access, password and the record they are linked to. */
export function UserDetail() {
  const { id = '' } = useParams();
  const location = useLocation();
  const [notice, setNotice] = useState<string | null>((location.state as { notice?: string } | null)?.notice ?? null);
  const { data, loading, error } = useQuery(AdminUserDocument, { variables: { id } });
  const user = data?.user;
  return (
    <section>
      <p className="mb-2">
        <Link to="/users">← All users</Link>
      </p>
      <PageHeader title={user ? user.email : 'User'} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading the user" />}
      {user && (
        <>
          <p className="text-muted">
            {roleLabel(user.role)} · {user.active ? 'active' : 'deactivated'} · created {dateTimeIn(user.createdAt, getClinicZone())} · {user.lastLoginAt ? `last signed in ${dateTimeIn(user.lastLoginAt, getClinicZone())}` : 'never signed in'}
          </p>
          <RoleSection user={user} say={setNotice} />
          <AccessSection user={user} say={setNotice} />
          <PasswordSection user={user} say={setNotice} />
          <LinkSection user={user} say={setNotice} />
        </>
      )}
    </section>
  );
}
