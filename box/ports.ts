// The box's port plan. With a base the layout is fixed (CLI: 18080..18087); without one every
// port is picked free at random, so that several boxes (tests) never collide.
import { freePort } from './http.ts';

export interface BoxPorts {
  app: number;
  keycloak: number;
  genericUpload: number;
  profile: number;
  tcs: number;
  control: number;
  keycloakHttp: number;
  keycloakManagement: number;
}

const ORDER: (keyof BoxPorts)[] = ['app', 'keycloak', 'genericUpload', 'profile', 'tcs', 'control', 'keycloakHttp', 'keycloakManagement'];

export async function allocatePorts(base?: number): Promise<BoxPorts> {
  const ports = {} as BoxPorts;
  if (base) {
    ORDER.forEach((name, i) => (ports[name] = base + i));
    return ports;
  }
  const taken = new Set<number>();
  for (const name of ORDER) {
    let p = await freePort();
    while (taken.has(p)) p = await freePort();
    taken.add(p);
    ports[name] = p;
  }
  return ports;
}
