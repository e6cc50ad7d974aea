import { useQuery, useSubscription } from '@apollo/client/react';
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { graphql } from '../../gql';
import type { NotificationAddedSubscription } from '../../gql/graphql';

export const UnreadNotificationsDocument = graphql(`
  query UnreadNotifications {
    notifications(filter: { unreadOnly: true }, first: 50) {
      edges {
        node {
          id
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const NotificationAddedDocument = graphql(`
  subscription NotificationAdded {
    notificationAdded {
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
`);

export type LiveNotification = NotificationAddedSubscription['notificationAdded'];

interface LiveFeed {
  /** Notifications that arrived live since sign-in, newest first. */
  arrived: readonly LiveNotification[];
  /** Ids of unread notifications known to this tab. */
  unread: ReadonlySet<string>;
  /** More unread exist than were loaded. */
  moreUnread: boolean;
  markedRead: (id: string) => void;
  /** Not read yet (neither when loaded nor since, in this tab). */
  isUnread: (n: { id: string; readAt?: string | null }) => boolean;
  connected: boolean;
}

const LiveFeedContext = createContext<LiveFeed | null>(null);

/** Keeps the signed-in user's live notification feed (graphql-ws) and the unread count. */
export function LiveFeedProvider({ children }: { children: ReactNode }) {
  const initial = useQuery(UnreadNotificationsDocument, { fetchPolicy: 'network-only' });
  const [arrived, setArrived] = useState<LiveNotification[]>([]);
  const [unread, setUnread] = useState<ReadonlySet<string>>(new Set());
  const [read, setRead] = useState<ReadonlySet<string>>(new Set());
  const live = useSubscription(NotificationAddedDocument, {
    onData: ({ data }) => {
      const n = data.data?.notificationAdded;
      if (!n) return;
      setArrived((list) => (list.some((x) => x.id === n.id) ? list : [n, ...list].slice(0, 200)));
      if (!n.readAt) setUnread((set) => new Set(set).add(n.id));
    },
  });
  useEffect(() => {
    const ids = initial.data?.notifications.edges.map((e) => e.node.id) ?? [];
    if (ids.length > 0) setUnread((set) => new Set([...set, ...ids]));
  }, [initial.data]);
  const value = useMemo<LiveFeed>(
    () => ({
      arrived,
      unread: new Set([...unread].filter((id) => !read.has(id))),
      moreUnread: initial.data?.notifications.pageInfo.hasNextPage ?? false,
      markedRead: (id) => setRead((set) => new Set(set).add(id)),
      isUnread: (n) => !n.readAt && !read.has(n.id),
      connected: !live.error,
    }),
    [arrived, unread, read, initial.data, live.error],
  );
  return <LiveFeedContext.Provider value={value}>{children}</LiveFeedContext.Provider>;
}

export function useLiveFeed(): LiveFeed {
  const feed = useContext(LiveFeedContext);
  if (!feed) throw new Error('useLiveFeed outside LiveFeedProvider');
  return feed;
}

/** The unread count for the menu ("3", "50+"), hidden at zero. */
export function UnreadBadge() {
  const { unread, moreUnread } = useLiveFeed();
  if (unread.size === 0) return null;
  return (
    <span className="badge rounded-pill text-bg-light ms-1" id="unread-count">
      {unread.size}
      {moreUnread ? '+' : ''}
      <span className="visually-hidden"> unread</span>
    </span>
  );
}
