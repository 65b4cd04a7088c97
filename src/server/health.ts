// The service's own health, as /healthz answers it and the status page shows it.

export interface HealthReport {
  ok: boolean;
  /** Why not, when not ok. */
  problems: string[];
  lastTickAt?: string;
}
