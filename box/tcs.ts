// Stand-in for TIS TCS: the bulk people update (and the placements import generic-upload
// also feeds). Every call is authenticated by asking Profile, as the real service does.
import axios from 'axios';
import express, { type NextFunction, type Request, type Response } from 'express';
import { PERMISSION_MODIFY_ENTITIES } from './profile.ts';

export interface Person {
  id: number;
  [field: string]: unknown;
}

/** TCS's people (production: a database). */
export class People {
  private readonly people = new Map<number, Person>();

  constructor(seed: Person[] = [{ id: 1001, forenames: 'Alex', surname: 'Example' }]) {
    for (const p of seed) this.people.set(p.id, { ...p });
  }

  get(id: number): Person | undefined {
    return this.people.get(id);
  }

  add(p: Person): void {
    this.people.set(p.id, { ...p });
  }

  remove(id: number): void {
    this.people.delete(id);
  }
}

/** Switched by the queue-blocked fault. */
export interface TcsFaults {
  /** While set, the placements endpoint answers 503. */
  placementsUnavailable?: boolean;
}

export interface TcsOptions {
  people: People;
  profileUrl: string;
  faults: TcsFaults;
}

interface PersonUpdate {
  id?: unknown;
  [field: string]: unknown;
}

export function tcsApp(opts: TcsOptions): express.Express {
  const app = express();
  app.use(express.json({ limit: '5mb' }));

  app.use('/tcs/api', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const answer = await axios.get(`${opts.profileUrl}/profile/api/userinfo`, {
        headers: { authorization: req.headers.authorization ?? '' },
        validateStatus: () => true,
        timeout: 10_000,
      });
      if (answer.status === 401) {
        res.status(401).type('text/plain').send('Unauthorized');
        return;
      }
      if (answer.status !== 200) {
        // A 404 from Profile is not handled by TCS: it surfaces as a plain 500.
        res.status(500).type('text/plain').send('Internal Server Error');
        return;
      }
      res.locals.permissions = (answer.data as { permissions?: string[] }).permissions ?? [];
      next();
    } catch {
      res.status(500).type('text/plain').send('Internal Server Error');
    }
  });

  const canModify = (res: Response): boolean => (res.locals.permissions as string[]).includes(PERMISSION_MODIFY_ENTITIES);

  app.patch(['/tcs/api/bulk-people', '/tcs/api/bulk-people/'], (req, res) => {
    if (!canModify(res)) {
      res.status(403).type('text/plain').send('Forbidden');
      return;
    }
    if (!Array.isArray(req.body)) {
      res.status(400).type('text/plain').send('expected a list of people');
      return;
    }
    const answers = (req.body as PersonUpdate[]).map((update) => {
      const id = Number(update.id);
      const person = Number.isInteger(id) ? opts.people.get(id) : undefined;
      if (!person) return { ...update, messageList: [`Person with id ${String(update.id)} does not exist`] };
      Object.assign(person, update, { id });
      return { ...person, messageList: [] as string[] };
    });
    res.json(answers);
  });

  app.post(['/tcs/api/bulk-placements', '/tcs/api/bulk-placements/'], (req, res) => {
    if (opts.faults.placementsUnavailable) {
      res.status(503).type('text/plain').send('Service Unavailable');
      return;
    }
    if (!canModify(res)) {
      res.status(403).type('text/plain').send('Forbidden');
      return;
    }
    if (!Array.isArray(req.body)) {
      res.status(400).type('text/plain').send('expected a list of placements');
      return;
    }
    const answers = (req.body as { personId?: unknown }[]).map((placement) => {
      const id = Number(placement.personId);
      const exists = Number.isInteger(id) && opts.people.get(id) !== undefined;
      return { ...placement, messageList: exists ? [] : [`Person with id ${String(placement.personId)} does not exist`] };
    });
    res.status(201).json(answers);
  });

  return app;
}
