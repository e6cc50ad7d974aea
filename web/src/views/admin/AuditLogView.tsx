import { useQuery } from '@apollo/client/react';
import { useMemo, useState, type FormEvent } from 'react';
import { problemOf } from '../../errors';
import type { AuditFilter, AuditOperation, AuditOutcome } from '../../gql/graphql';
import { addDays, dateTimeIn, getClinicZone, startOfDay } from '../../time';
import { MoreButton, SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { OPERATIONS, OUTCOMES, roleLabel } from './labels';
import { AdminAuditLogDocument, AdminUserChoicesDocument } from './operations';
import { PatientPicker } from '../../ui/PatientPicker';
import type { Picked } from '../../ui/pickers';

interface Draft {
  userId: string;
  otherUserId: string;
  patient: Picked | null;
  operation: AuditOperation | '';
  outcome: AuditOutcome | '';
  from: string;
  to: string;
}

const EMPTY: Draft = { userId: '', otherUserId: '', patient: null, operation: '', outcome: '', from: '', to: '' };
const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** The graph's filter for what the form says: dates are whole days in the clinic's zone, `to` included. */
function filterOf(d: Draft): AuditFilter {
  const user = d.otherUserId.trim() || d.userId;
  return {
    ...(user ? { userId: user } : {}),
    ...(d.patient ? { entityId: d.patient.id } : {}),
    ...(d.operation ? { operation: d.operation } : {}),
    ...(d.outcome ? { outcome: d.outcome } : {}),
    ...(d.from ? { from: startOfDay(d.from, getClinicZone()) } : {}),
    ...(d.to ? { to: startOfDay(addDays(d.to, 1), getClinicZone()) } : {}),
  };
}

function outcomeBadge(outcome: AuditOutcome): string {
  if (outcome === 'DENIED') return 'badge text-bg-danger';
  if (outcome === 'FAILED') return 'badge text-bg-warning';
  return 'badge text-bg-success';
}

/** The PHI audit trail, newest first, with filters; times in the clinic's zone. */
export function AuditLogView() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [applied, setApplied] = useState<Draft>(EMPTY);
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const choices = useQuery(AdminUserChoicesDocument);
  const users = useMemo(() => choices.data?.users.edges.map((e) => e.node) ?? [], [choices.data]);
  const emailOf = useMemo(() => new Map(users.map((u) => [u.id, u.email])), [users]);
  const filter = useMemo(() => filterOf(applied), [applied]);
  const { data, loading, error, fetchMore } = useQuery(AdminAuditLogDocument, { variables: { filter } });
  const entries = data?.auditLog.edges.map((e) => e.node) ?? [];
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const other = draft.otherUserId.trim();
    if (other && !OBJECT_ID.test(other)) return setFormProblem('A user id is 24 letters and digits (0–9, a–f), as shown in the log.');
    if (draft.from && draft.to && draft.to < draft.from) return setFormProblem('The end date is before the start date.');
    setFormProblem(null);
    setApplied(draft);
  };
  const filtered = JSON.stringify(applied) !== JSON.stringify(EMPTY);

  return (
    <section>
      <PageHeader title="Audit log" />
      <p className="text-muted">Every access to health information: who read or changed what, and whether it was allowed. Newest first; times in the clinic’s time zone.</p>
      <form className="card card-body mb-3" id="audit-filters" onSubmit={apply} aria-labelledby="audit-filters-title">
        <h2 className="h5" id="audit-filters-title">
          Filters
        </h2>
        <div className="row g-3">
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="audit-user">
              User
            </label>
            <select id="audit-user" className="form-select" value={draft.userId} onChange={(e) => set('userId', e.target.value)}>
              <option value="">Any user</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.email} ({roleLabel(u.role)})
                </option>
              ))}
            </select>
          </div>
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="audit-user-id">
              Or user id
            </label>
            <input id="audit-user-id" className="form-control" autoComplete="off" value={draft.otherUserId} onChange={(e) => set('otherUserId', e.target.value)} aria-describedby="audit-user-id-help" />
            <div className="form-text" id="audit-user-id-help">
              For a user not in the list; used instead of the list when filled in.
            </div>
          </div>
          <div className="col-12">
            <PatientPicker value={draft.patient} onChange={(p) => set('patient', p)} label="Patient" />
          </div>
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="audit-operation">
              Operation
            </label>
            <select id="audit-operation" className="form-select" value={draft.operation} onChange={(e) => set('operation', e.target.value as AuditOperation | '')}>
              <option value="">Any operation</option>
              {OPERATIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="audit-outcome">
              Outcome
            </label>
            <select id="audit-outcome" className="form-select" value={draft.outcome} onChange={(e) => set('outcome', e.target.value as AuditOutcome | '')}>
              <option value="">Any outcome</option>
              {OUTCOMES.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="audit-from">
              From (day)
            </label>
            <input id="audit-from" className="form-control" type="date" value={draft.from} onChange={(e) => set('from', e.target.value)} />
          </div>
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="audit-to">
              To (day, included)
            </label>
            <input id="audit-to" className="form-control" type="date" value={draft.to} onChange={(e) => set('to', e.target.value)} />
          </div>
        </div>
        {formProblem && (
          <div className="alert alert-danger mt-3 mb-0" role="alert">
            {formProblem}
          </div>
        )}
        <div className="d-flex flex-wrap gap-2 mt-3">
          <SubmitButton busy={loading && !data}>Apply filters</SubmitButton>
          <button
            type="button"
            className="btn btn-outline-secondary"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
              setFormProblem(null);
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      <h2 className="h5">Entries</h2>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading the audit log" />}
      {data && entries.length === 0 && <Empty>{filtered ? 'No entries match these filters.' : 'The audit log is empty.'}</Empty>}
      {entries.length > 0 && (
        <table className="table table-cards align-middle" id="audit-list">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Operation</th>
              <th scope="col">Entity</th>
              <th scope="col">Outcome</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((a) => (
              <tr key={a.id}>
                <td data-label="Time">{dateTimeIn(a.at, getClinicZone())}</td>
                <td data-label="User">
                  {a.userId ? (emailOf.get(a.userId) ?? a.userId) : 'No user (a service)'}
                  {a.role && <div className="small text-muted">{roleLabel(a.role)}</div>}
                </td>
                <td data-label="Operation">
                  {OPERATIONS.find((o) => o.value === a.operation)?.label ?? a.operation}
                  {a.fields.length > 0 && <div className="small text-muted">{a.fields.join(', ')}</div>}
                </td>
                <td data-label="Entity">
                  {a.entityType}
                  {a.entityId && <div className="small text-muted">{a.entityId}</div>}
                </td>
                <td data-label="Outcome">
                  <span className={outcomeBadge(a.outcome)}>{OUTCOMES.find((o) => o.value === a.outcome)?.label ?? a.outcome}</span>
                </td>
                <td data-label="Reason">{a.reason ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreButton pageInfo={data?.auditLog.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </section>
  );
}
