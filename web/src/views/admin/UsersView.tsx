import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { problemOf, UserMessage } from '../../errors';
import type { Role } from '../../gql/graphql';
import { dateTimeIn, getClinicZone } from '../../time';
import { MoreButton, SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { MIN_PASSWORD, ROLES, roleLabel } from './labels';
import { PasswordField } from './PasswordField';
import { AdminCreateUserDocument, AdminUsersDocument } from './operations';
import { DoctorPicker } from '../../ui/DoctorPicker';
import { PatientPicker } from '../../ui/PatientPicker';
import type { Picked } from '../../ui/pickers';

/** The new user's form: email, initial password, role, and the record a patient or doctor user is linked to. */
function CreateUserForm({ onCancel }: { onCancel: () => void }) {
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('NURSE');
  const [patient, setPatient] = useState<Picked | null>(null);
  const [doctor, setDoctor] = useState<Picked | null>(null);
  const [create] = useMutation(AdminCreateUserDocument);
  const action = useAction(async (key: string) => {
    if (password.length < MIN_PASSWORD) throw new UserMessage(`The initial password must be at least ${MIN_PASSWORD} characters long.`);
    const result = await create({
      variables: {
        input: {
          email: email.trim(),
          password,
          role,
          ...(role === 'PATIENT' && patient ? { patientId: patient.id } : {}),
          ...(role === 'DOCTOR' && doctor ? { doctorId: doctor.id } : {}),
        },
      },
      context: { idempotencyKey: key },
    });
    const user = result.data?.createUser;
    if (user) {
      const linked = role === 'PATIENT' && patient ? `, linked to ${patient.name}` : role === 'DOCTOR' && doctor ? `, linked to ${doctor.name}` : '';
      void navigate(`/users/${user.id}`, { state: { notice: `${user.email} was created as ${roleLabel(user.role).toLowerCase()}${linked}. They can sign in with the initial password.` } });
    }
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run();
  };
  return (
    <form className="card card-body mb-4" id="create-user-form" onSubmit={submit} aria-labelledby="create-user-title">
      <h2 className="h5" id="create-user-title">
        New user
      </h2>
      <div className="row g-3">
        <div className="col-12 col-md-6">
          <label className="form-label" htmlFor="new-user-email">
            Email
          </label>
          <input id="new-user-email" className="form-control" type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="col-12 col-md-6">
          <PasswordField id="new-user-password" label="Initial password" value={password} onChange={setPassword} />
          <div className="form-text" id="new-user-password-help">
            At least {MIN_PASSWORD} characters. Give it to the person in a safe way.
          </div>
        </div>
        <div className="col-12 col-md-6">
          <label className="form-label" htmlFor="new-user-role">
            Role
          </label>
          <select id="new-user-role" className="form-select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div className="col-12">
          {role === 'PATIENT' && <PatientPicker value={patient} onChange={setPatient} label="Patient record" />}
          {role === 'DOCTOR' && <DoctorPicker value={doctor} onChange={setDoctor} />}
          {role !== 'PATIENT' && role !== 'DOCTOR' && <p className="text-muted mb-0">Only patient and doctor users are linked to a record.</p>}
        </div>
      </div>
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
      <div className="d-flex flex-wrap gap-2 mt-3">
        <SubmitButton busy={action.busy}>Create user</SubmitButton>
        <button type="button" className="btn btn-outline-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Everyone who signs in, by email, filtered by role, 20 at a time. */
export function UsersView() {
  const [role, setRole] = useState<Role | ''>('');
  const [creating, setCreating] = useState(false);
  const { data, loading, error, fetchMore } = useQuery(AdminUsersDocument, { variables: { role: role || null } });
  const users = data?.users.edges.map((e) => e.node) ?? [];
  return (
    <section>
      <PageHeader title="Users">
        {!creating && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New user
          </button>
        )}
      </PageHeader>
      {creating && <CreateUserForm onCancel={() => setCreating(false)} />}
      <div className="row g-2 mb-3">
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="users-role-filter">
            Show
          </label>
          <select id="users-role-filter" className="form-select" value={role} onChange={(e) => setRole(e.target.value as Role | '')}>
            <option value="">Every role</option>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}s only
              </option>
            ))}
          </select>
        </div>
      </div>
      <h2 className="visually-hidden">User list</h2>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading users" />}
      {data && users.length === 0 && <Empty>{role ? `No ${roleLabel(role).toLowerCase()} users yet.` : 'No users yet.'}</Empty>}
      {users.length > 0 && (
        <table className="table table-cards align-middle" id="user-list">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Linked to</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td data-label="Email">{u.email}</td>
                <td data-label="Role">{roleLabel(u.role)}</td>
                <td data-label="Status">{u.active ? 'Active' : <span className="badge text-bg-secondary">Deactivated</span>}</td>
                <td data-label="Linked to">{u.patient ? `Patient ${u.patient.name}` : u.doctor ? u.doctor.name : '—'}</td>
                <td data-label="Last sign-in">{u.lastLoginAt ? dateTimeIn(u.lastLoginAt, getClinicZone()) : 'Never'}</td>
                <td>
                  <Link className="btn btn-sm btn-outline-primary" to={`/users/${u.id}`} aria-label={`Manage ${u.email}`}>
                    Manage
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton pageInfo={data?.users.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </section>
  );
}
