// A webhook receiver like the one an on-call tool offers: records what Alertmanager sends.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}
export interface Notification {
  receivedAt: number;
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: AlertmanagerAlert[];
}

export interface WebhookReceiver {
  url: string;
  notifications: Notification[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const notifications: Notification[] = [];
  const app = express();
  app.use(express.json());
  app.post('/:receiver', (req, res) => {
    const body = req.body as { status: 'firing' | 'resolved'; alerts: AlertmanagerAlert[] };
    notifications.push({ receivedAt: Date.now(), receiver: req.params.receiver, status: body.status, alerts: body.alerts });
    res.sendStatus(200);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    notifications,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
