// The /32 routes to other pool hosts' guests: tagged with their own protocol number so they are listed and replaced as a set.
import type { RouteChanges } from '../core/pool-materialise';
import type { Exec } from './exec';

/** rtnetlink protocol number of our routes (unassigned in iproute2's rt_protos): `ip route show proto 98` lists exactly them. */
export const POOL_ROUTE_PROTOCOL = 98;
/** Above a local vif's route (metric 0) and an emulated NIC's (TAP_ROUTE_METRIC): while a migrating guest still runs here, its own route wins. */
export const POOL_ROUTE_METRIC = 500;

export interface PoolRoutes {
  /** address -> next hop of the routes we own now. */
  list(): Promise<Map<string, string>>;
  /** Apply the changes, keeping on past failures; returns one line per failed change. */
  apply(changes: RouteChanges): Promise<string[]>;
}

/** Parse `ip -4 route show proto 98` (e.g. "10.0.2.1 via 192.0.2.12 dev pool0 metric 500"). */
export function parsePoolRoutes(output: string): Map<string, string> {
  const routes = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([0-9.]+)(?:\/32)?\s+via\s+([0-9.]+)\s/.exec(`${line} `);
    if (match) routes.set(match[1]!, match[2]!);
  }
  return routes;
}

export function poolRouteBatch(changes: RouteChanges): string {
  const tail = `proto ${POOL_ROUTE_PROTOCOL} metric ${POOL_ROUTE_METRIC}`;
  return [
    ...changes.remove.map((ip) => `route del ${ip}/32 ${tail}`),
    ...changes.replace.map(([ip, via]) => `route replace ${ip}/32 via ${via} ${tail}`),
  ].map((line) => `${line}\n`).join('');
}

export function createPoolRoutes(exec: Exec): PoolRoutes {
  return {
    async list() {
      const { stdout } = await exec('ip', ['-4', 'route', 'show', 'proto', String(POOL_ROUTE_PROTOCOL)], { check: true });
      return parsePoolRoutes(stdout);
    },
    async apply(changes) {
      if (changes.replace.length + changes.remove.length === 0) return [];
      // -force: one unreachable next hop (a host whose POOL_ADDRESS is not on-link) must not stop the rest
      const result = await exec('ip', ['-force', '-batch', '-'], { input: poolRouteBatch(changes) });
      return result.exitCode === 0 ? [] : result.stderr.split('\n').filter(Boolean).map((line) => `route: ${line}`);
    },
  };
}
