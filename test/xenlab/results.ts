// What the lab hands back from dom0 (results.json on the results share): one entry per scenario, written as each ends.
export interface ScenarioResult {
  readonly name: string;
  readonly ms: number;
  readonly error?: string;
  readonly data?: unknown;
}

export interface LabResults {
  readonly dom0UptimeAtStartS: number; // dom0's uptime when the scenarios began (boot + host set-up)
  readonly scenarios: ScenarioResult[];
  readonly finished: boolean;
}

export const RESULTS_FILE = 'results.json';
export const LOGS_DIR = 'logs';
