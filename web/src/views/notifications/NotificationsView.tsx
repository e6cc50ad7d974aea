import { useMutation, useQuery } from '@apollo/client/react';
import { graphql } from '../../gql';
import type { NotificationKind } from '../../gql/graphql';
import { problemOf } from '../../errors';
import { dateTimeIn } from '../../time';
import { BusyButton, MoreButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { useLiveFeed, type LiveNotification } from './live';

export const NotificationsDocument = graphql(`
  query Notifications($after: String) {
    notifications(first: 20, after: $after) {
      edges {
        node {
          id
          kind
          channel
          message
          status
          sentAt
          readAt
          createdAt
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const MarkNotificationReadDocument = graphql(`
  mutation MarkNotificationRead($id: ObjectID!) {
    markNotificationRead(id: $id) {
      id
      readAt
    }
  }
`);

const KIND: Record<NotificationKind, string> = {
  APPOINTMENT_CONFIRMED: 'Appointment confirmed',
  APPOINTMENT_REMINDER: 'Appointment reminder',
  APPOINTMENT_CANCELLED: 'Appointment cancelled',
  APPOINTMENT_RESCHEDULED: 'Appointment moved',
  MEDICATION_REMINDER: 'Medication reminder',
  LOW_STOCK_ALERT: 'Low stock',
};

function NotificationItem({ n, unread }: { n: LiveNotification; unread: boolean }) {
  const { markedRead } = useLiveFeed();
  const [mark] = useMutation(MarkNotificationReadDocument);
  const action = useAction(async () => {
    await mark({ variables: { id: n.id } });
    markedRead(n.id);
  });
  return (
    <li className={`list-group-item d-flex flex-wrap gap-2 align-items-start${unread ? ' unread' : ''}`}>
      <div className="me-auto notification-text">
        <div className="fw-semibold">
          {KIND[n.kind]}
          {unread && <span className="badge text-bg-primary ms-2">New</span>}
        </div>
        <div>{n.message}</div>
        <small className="text-muted">
          {dateTimeIn(n.sentAt ?? n.createdAt)} · {n.channel.toLowerCase()} · {n.status.toLowerCase()}
        </small>
        <ErrorAlert problem={action.problem} />
      </div>
      {unread && (
        <BusyButton className="btn btn-sm btn-outline-primary" busy={action.busy} onClick={() => void action.run()}>
          Mark as read
        </BusyButton>
      )}
    </li>
  );
}

/** The signed-in user's notifications: live ones on top, then the stored ones, newest first. */
export function NotificationsView() {
  const { arrived, isUnread, connected } = useLiveFeed();
  const { data, loading, error, fetchMore } = useQuery(NotificationsDocument);
  const stored = data?.notifications.edges.map((e) => e.node) ?? [];
  const known = new Set(stored.map((n) => n.id));
  const list = [...arrived.filter((n) => !known.has(n.id)), ...stored];
  return (
    <section>
      <PageHeader title="Notifications">
        <small className="text-muted" role="status">
          {connected ? 'New notifications appear here as they are sent.' : 'Live updates paused; reconnecting…'}
        </small>
      </PageHeader>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading notifications" />}
      {data && list.length === 0 && <Empty>No notifications yet.</Empty>}
      <ul className="list-group" id="notification-list">
        {list.map((n) => (
          <NotificationItem key={n.id} n={n} unread={isUnread(n)} />
        ))}
      </ul>
      <MoreButton pageInfo={data?.notifications.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </section>
  );
}
