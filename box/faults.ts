// The faults the box can inject while running, each one breaking what broke (or could break)
// in production. The registry validates parameters and keeps what is active; what a fault
// does is supplied by the box (box.ts wires each name to the component it breaks).
import { z } from 'zod';

export const FAULT_NAMES = [
  'stale-config',
  'service-account-disabled',
  'service-account-inactive-in-profile',
  'test-user-disabled',
  'queue-blocked',
  'slow',
  'server-error',
  'login-down',
  'canary-imported',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

const noParams = z.object({}).strict();
export const FAULT_PARAMS = {
  'stale-config': noParams,
  'service-account-disabled': noParams,
  'service-account-inactive-in-profile': noParams,
  'test-user-disabled': noParams,
  'queue-blocked': noParams,
  slow: z.object({ delayMs: z.number().int().min(0).max(3_600_000).default(60_000) }).strict(),
  'server-error': z.object({ status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(503) }).strict(),
  'login-down': z.object({ mode: z.enum(['5xx', 'refuse']).default('5xx') }).strict(),
  'canary-imported': noParams,
} satisfies Record<FaultName, z.ZodType>;

export type FaultParams = {
  [K in FaultName]: z.output<(typeof FAULT_PARAMS)[K]>;
};

export interface FaultHandler<K extends FaultName = FaultName> {
  apply(params: FaultParams[K]): Promise<void>;
  clear(): Promise<void>;
}
export type FaultHandlers = { [K in FaultName]: FaultHandler<K> };

export interface ActiveFault {
  name: FaultName;
  params: Record<string, unknown>;
  /** ISO timestamp when it was switched on. */
  since: string;
}

export class UnknownFaultError extends Error {}
export class FaultParamsError extends Error {}

export function isFaultName(name: string): name is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(name);
}

export class FaultRegistry {
  private readonly active = new Map<FaultName, ActiveFault>();
  // Faults touch shared state (Keycloak users, the queue): one change at a time.
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly handlers: FaultHandlers) {}

  list(): ActiveFault[] {
    return FAULT_NAMES.flatMap((n) => {
      const a = this.active.get(n);
      return a ? [a] : [];
    });
  }

  /** Validates before queueing, so bad input is reported without touching anything. */
  set(name: string, rawParams: unknown = {}): Promise<ActiveFault[]> {
    if (!isFaultName(name)) return Promise.reject(new UnknownFaultError(`unknown fault "${name}"; available: ${FAULT_NAMES.join(', ')}`));
    const parsed = FAULT_PARAMS[name].safeParse(rawParams ?? {});
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
      return Promise.reject(new FaultParamsError(`bad params for fault "${name}": ${detail}`));
    }
    return this.serial(async () => {
      const handler = this.handlers[name] as FaultHandler;
      // Re-setting with other params: undo the old variant first.
      if (this.active.has(name)) await handler.clear();
      await handler.apply(parsed.data as never);
      this.active.set(name, { name, params: parsed.data as Record<string, unknown>, since: new Date().toISOString() });
      return this.list();
    });
  }

  clear(name?: string): Promise<ActiveFault[]> {
    if (name !== undefined && !isFaultName(name)) {
      return Promise.reject(new UnknownFaultError(`unknown fault "${name}"; available: ${FAULT_NAMES.join(', ')}`));
    }
    return this.serial(async () => {
      const names = name ? [name] : [...this.active.keys()];
      for (const n of names) {
        if (!this.active.has(n)) continue;
        await this.handlers[n].clear();
        this.active.delete(n);
      }
      return this.list();
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
