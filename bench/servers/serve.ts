/**
 * The end of every bench server: once `server` listens, its URL goes to the harness over IPC
 * (`{ ready }`, see lib/processes.ts), and SIGTERM closes it, connections and all.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function serveUntilStopped(server: Server): Promise<void> {
  if (!server.listening) await once(server, 'listening');
  process.send?.({ ready: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
