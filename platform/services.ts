/** The services of the graph and their default ports: the one list every script and test reads. */
export const SUBGRAPHS = ['accounts', 'patients', 'doctors'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

export const DEFAULT_PORTS: Record<SubgraphName | 'router' | 'db', number> = {
  router: 4000,
  patients: 4001,
  doctors: 4002,
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
