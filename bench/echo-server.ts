/**
 * `node dist/bench/echo-server.js [socketPath]`: the app of the two-sidecar measurement, playing
 * Fortio's echo server as Istio's published benchmark does: a POST's body comes back as the
 * answer (a GET gets 1 KiB). Listens on 127.0.0.1 (the direct baseline) and, when given, on a
 * Unix socket (the sidecar's hop to its app). Prints one JSON "listening" line; no access log,
 * so the measurement is the proxies, not the app.
 */
import http from 'node:http';

const ONE_KIB = Buffer.alloc(1024, 'x');

const server = http.createServer({ keepAliveTimeout: 330_000 }, (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ONE_KIB.length }).end(ONE_KIB);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
});
const socketPath = process.argv[2];
const unix = socketPath ? http.createServer({ keepAliveTimeout: 330_000 }, (req, res) => server.emit('request', req, res)) : undefined;

server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as { port: number }).port;
  const ready = () => process.stdout.write(JSON.stringify({ event: 'listening', port, socketPath: socketPath ?? null }) + '\n');
  if (unix) unix.listen(socketPath, ready);
  else ready();
});
process.once('SIGTERM', () => {
  unix?.close();
  server.close();
  server.closeAllConnections();
  unix?.closeAllConnections();
});
