import http, { type Server } from 'node:http';
import type { Socket } from 'node:net';
import type Koa from 'koa';
import type { HttpLimits } from '../config.js';

/** Near the cap (this share of it), idle keep-alive connections are closed to make room. */
const ROOM_AT = 0.9;

/**
 * Serves the app with the HTTP limits (the one place the server, the demo and the tests listen):
 * a client has `headersTimeoutMs` for its headers and `requestTimeoutMs` for the whole request,
 * an idle keep-alive connection lasts `keepAliveTimeoutMs`, and at most `maxConnections` are open
 * (more are refused at once). So connections held open by slow or idle clients cannot take every
 * file descriptor: they time out, and near the cap the idle keep-alive ones give way.
 */
export async function listen<S, C>(app: Koa<S, C>, port: number, host: string, limits: HttpLimits): Promise<Server> {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often expired headers and requests are looked for (Node's default is every 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    app.callback(),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  let open = 0;
  const roomAt = Math.max(1, Math.floor(limits.maxConnections * ROOM_AT));
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    if (open >= roomAt) server.closeIdleConnections();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
