import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Link } from 'react-router';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { MoreButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { AppointmentActions } from './AppointmentPanel';
import { ApptMyVisitsDocument } from './operations';
import { StatusBadge, whenText, type Appt } from './shared';

function VisitItem({ a, actions }: { a: Appt; actions: boolean }) {
  return (
    <li className="list-group-item visit-item" data-appointment={a.id}>
      <div className="d-flex flex-wrap align-items-start gap-2">
        <div className="me-auto">
          <div className="fw-semibold visit-when">{whenText(a, a.timeZone)}</div>
          <div>
            {a.doctor.name} · {a.specialty}
          </div>
          <div className="small text-muted">Reason: {a.reason}</div>
          {a.cancellationReason && <div className="small">Cancelled: {a.cancellationReason}</div>}
          {a.conditions.length > 0 && <div className="small">Conditions: {a.conditions.join(', ')}</div>}
        </div>
        <StatusBadge status={a.status} />
      </div>
      {actions && (
        <div className="mt-2">
          <AppointmentActions a={a} showFollowUp={false} />
        </div>
      )}
    </li>
  );
}

/** A patient's own visits: upcoming ones (which they may move or cancel) and the earlier ones. */
export function MyVisitsView() {
  const user = useUser();
  const patientId = user.patientId ?? '';
  // "Now" for this visit to the page (a fixed filter keeps one cached list).
  const [now] = useState(() => new Date().toISOString());
  const upcoming = useQuery(ApptMyVisitsDocument, { variables: { filter: { patientId, status: 'SCHEDULED', from: now } }, skip: !patientId });
  const all = useQuery(ApptMyVisitsDocument, { variables: { filter: { patientId } }, skip: !patientId });
  const coming = [...(upcoming.data?.appointments.edges.map((e) => e.node) ?? [])].sort((a, b) => a.start.localeCompare(b.start));
  const comingIds = new Set(coming.map((a) => a.id));
  const earlier = (all.data?.appointments.edges.map((e) => e.node) ?? []).filter((a) => !comingIds.has(a.id) && !(a.status === 'SCHEDULED' && a.start >= now));

  if (!patientId) {
    return (
      <section>
        <PageHeader title="My visits" />
        <Empty>Your account is not linked to a patient record yet; please ask the clinic.</Empty>
      </section>
    );
  }
  return (
    <section>
      <PageHeader title="My visits">
        <Link className="btn btn-primary" to="/visits/book">
          Book a visit
        </Link>
      </PageHeader>
      <h2 className="h5">Upcoming</h2>
      <ErrorAlert problem={upcoming.error ? problemOf(upcoming.error) : null} />
      {upcoming.loading && !upcoming.data && <Loading what="Loading your visits" />}
      {upcoming.data && coming.length === 0 && <Empty>No upcoming visits. Use “Book a visit” to make one.</Empty>}
      <ul className="list-group mb-2" id="upcoming-visits" aria-label="Upcoming visits">
        {coming.map((a) => (
          <VisitItem key={a.id} a={a} actions />
        ))}
      </ul>
      <MoreButton pageInfo={upcoming.data?.appointments.pageInfo} loading={upcoming.loading} onMore={(after) => void upcoming.fetchMore({ variables: { after } })} />
      <h2 className="h5 mt-4">Past and cancelled</h2>
      <ErrorAlert problem={all.error ? problemOf(all.error) : null} />
      {all.loading && !all.data && <Loading what="Loading your earlier visits" />}
      {all.data && earlier.length === 0 && <Empty>No earlier or cancelled visits.</Empty>}
      <ul className="list-group mb-2" id="past-visits" aria-label="Past and cancelled visits">
        {earlier.map((a) => (
          <VisitItem key={a.id} a={a} actions={false} />
        ))}
      </ul>
      <MoreButton pageInfo={all.data?.appointments.pageInfo} loading={all.loading} onMore={(after) => void all.fetchMore({ variables: { after } })} />
    </section>
  );
}
