// A door in front of a real server: a TCP forwarder on a port of its own
// that a test opens and shuts, so a service sees the server go away and come
// back (connections refused while shut) without the shared server being
// touched. Bytes pass through unchanged; nothing is mocked.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './index.ts';

export interface TcpGate {
  /** The port to point the service at. */
  port: number;
  open(): Promise<void>;
  /** Stops listening and cuts every forwarded connection. */
  shut(): Promise<void>;
}

export async function tcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    port,
    async open() {
      if (server) return;
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.once('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', () => resolve());
      });
    },
    async shut() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
