/** The services of the graph and their default ports: the one list every script and test reads. */
/** In start-up order: a service starts after those it calls. */
export const SUBGRAPHS = ['accounts', 'patients', 'doctors', 'appointments', 'medications', 'notifications', 'analytics'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

export const DEFAULT_PORTS: Record<SubgraphName | 'router' | 'db', number> = {
  router: 4000,
  patients: 4001,
  doctors: 4002,
  appointments: 4003,
  medications: 4004,
  notifications: 4005,
  analytics: 4006,
  accounts: 4007,
  db: 27018,
};

/** Env variable that overrides where the router finds a subgraph, e.g. SUBGRAPH_PATIENTS_URL. */
export function subgraphUrlEnv(name: SubgraphName): string {
  return `SUBGRAPH_${name.toUpperCase()}_URL`;
}

export function defaultSubgraphUrl(name: SubgraphName): string {
  return `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`;
}

/** The host part of a URL that reaches a process listening on `host` (HOST) from this machine. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
