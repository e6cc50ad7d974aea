import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Config } from '../platform/config';
import { exitWithParent } from '../platform/processExit';
import { subgraphUrlEnv, type SubgraphName } from '../platform/services';
import type { RunningSubgraph } from '../platform/subgraph';

/** A subgraph (or the router) in a process of its own (to be killed in fault tests), its log lines (pino JSON) collected. */
export interface ServiceProcess {
  name: SubgraphName | 'router';
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  /** Its GraphQL URL, once it logged "subgraph ready" (or "router ready"). */
  url?: string;
  /** Settles on 'close': the process is gone and its output read to the end. */
  exited: Promise<void>;
}

function spawnEntry(name: ServiceProcess['name'], entry: string, env: Record<string, string>): ServiceProcess {
  // Stops by itself if this test process dies without stopping it (a killed jest).
  const watch = exitWithParent();
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', entry)], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...watch.env, ...env },
    stdio: [watch.stdin, 'pipe', 'inherit'],
  });
  const service: ServiceProcess = { name, proc, lines: [], exited: new Promise<void>((resolve) => proc.once('close', () => resolve())) };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      service.lines.push(entry);
      if (entry.msg === 'subgraph ready' || entry.msg === 'router ready') service.url = String(entry.url);
    } catch {
      // not a log line
    }
  });
  return service;
}

/** Starts `subgraphs/<name>/index.ts` on a free port with `env` over this process's environment and LOG_LEVEL=info. */
export function spawnService(name: SubgraphName, env: Record<string, string>): ServiceProcess {
  return spawnEntry(name, path.join('subgraphs', name, 'index.ts'), env);
}

/** Starts a router (`router/index.ts`) on a free port; `env` names its database and subgraph URLs. */
export function spawnRouter(env: Record<string, string>): ServiceProcess {
  return spawnEntry('router', path.join('router', 'index.ts'), env);
}

/** The environment a notifications worker process needs to join a test graph (its database and the services it calls). */
export function notificationsWorkerEnv(cfg: Config, subgraphs: Partial<Record<SubgraphName, RunningSubgraph>>): Record<string, string> {
  return {
    MONGODB_URI: cfg.MONGODB_URI!,
    DB_PREFIX: cfg.DB_PREFIX,
    [subgraphUrlEnv('patients')]: subgraphs.patients!.url,
    [subgraphUrlEnv('doctors')]: subgraphs.doctors!.url,
    [subgraphUrlEnv('accounts')]: subgraphs.accounts!.url,
  };
}

/** Ids of the notifications a worker handed to the (simulated) channel, one per delivery. */
export const deliveredIds = (w: ServiceProcess): string[] => w.lines.filter((l) => l.delivery === 'simulated').map((l) => String(l.notificationId));
