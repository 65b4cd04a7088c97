// Client of the box's fault control interface (tests, benchmarks, the tis-box CLI).
import axios from 'axios';
import type { ActiveFault, FaultName } from './faults.ts';

export interface FaultList {
  active: ActiveFault[];
  available: FaultName[];
}

export interface FaultParamsInput {
  delayMs?: number;
  status?: number;
  mode?: '5xx' | 'refuse';
}

export async function setFault(controlUrl: string, name: FaultName | string, params?: FaultParamsInput): Promise<ActiveFault[]> {
  const res = await axios.post<{ active: ActiveFault[] }>(`${controlUrl}/faults/${encodeURIComponent(name)}`, params ?? {}, {
    timeout: 30_000,
  });
  return res.data.active;
}

/** Clears one fault, or all when no name is given. */
export async function clearFault(controlUrl: string, name?: FaultName | string): Promise<ActiveFault[]> {
  const path = name ? `/faults/${encodeURIComponent(name)}` : '/faults';
  const res = await axios.delete<{ active: ActiveFault[] }>(`${controlUrl}${path}`, { timeout: 30_000 });
  return res.data.active;
}

export async function listFaults(controlUrl: string): Promise<FaultList> {
  const res = await axios.get<FaultList>(`${controlUrl}/faults`, { timeout: 10_000 });
  return res.data;
}
