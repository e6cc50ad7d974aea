import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_PORTS, SUBGRAPHS } from '../platform/services';

/**
 * The monitoring set-up of docker-compose (ops/): Prometheus scrapes every process, Grafana is
 * provisioned with the dashboard, and the dashboard asks only for metrics the code exports
 * (platform/metrics.ts, or Node.js' defaults from prom-client).
 */
const ROOT = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Dashboard {
  uid: string;
  panels: { type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
}

describe('ops: Prometheus and Grafana', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
  const dashboard = JSON.parse(read('ops/grafana/dashboards/healthsync.json')) as Dashboard;

  it('scrapes /metrics of the router and every subgraph at their compose names and ports', () => {
    const prometheus = parse(read('ops/prometheus.yml')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
    const [job] = prometheus.scrape_configs;
    expect(job.metrics_path).toBe('/metrics');
    const targets = job.static_configs.flatMap((c) => c.targets).sort();
    const processes: (keyof typeof DEFAULT_PORTS)[] = ['router', ...SUBGRAPHS];
    expect(targets).toEqual(processes.map((name) => `${name}:${DEFAULT_PORTS[name]}`).sort());
    for (const name of targets.map((t) => t.split(':')[0])) expect(compose.services[name]).toBeDefined();
    expect(compose.services.prometheus.volumes).toContain('./ops/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('provisions Grafana with the Prometheus data source and the dashboard', () => {
    const grafana = compose.services.grafana;
    expect(grafana.volumes).toEqual(expect.arrayContaining(['./ops/grafana/provisioning:/etc/grafana/provisioning:ro', './ops/grafana/dashboards:/etc/grafana/dashboards:ro']));
    const sources = parse(read('ops/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string }[] };
    expect(sources.datasources[0]).toMatchObject({ url: 'http://prometheus:9090' });
    const providers = parse(read('ops/grafana/provisioning/dashboards/healthsync.yml')) as { providers: { options: { path: string } }[] };
    expect(providers.providers[0].options.path).toBe('/etc/grafana/dashboards');
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect(panel.datasource?.uid).toBe(sources.datasources[0].uid);
  });

  it('charts only metrics the processes export, and every family of platform/metrics.ts', () => {
    const source = read('platform/metrics.ts');
    const defined = new Set([...source.matchAll(/\$\{METRICS_PREFIX\}(\w+)`|scraped\(\s*'(\w+)'/g)].map((m) => `healthsync_${m[1] ?? m[2]}`));
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(healthsync_\w+?)(?:_bucket|_count|_sum)?\b/g)].map((m) => m[1])));
    for (const name of used) expect([name, defined.has(name)]).toEqual([name, true]);
    for (const name of defined) if (name !== 'healthsync_metrics_scrape_errors_total') expect([name, used.has(name)]).toEqual([name, true]);
  });
});
