/**
 * The floor under a handshake's CPU: `openssl speed` for the primitives of one ECDHE-ECDSA P-256
 * mutual handshake, on the same machine, and what one handshake should cost the server from them.
 */
import { execFile, spawn } from 'node:child_process';
import { accepts, freePort } from './nginx.js';

export interface OpensslSpeed {
  version: string;
  signPerS: number;
  verifyPerS: number;
  ecdhPerS: number;
  /**
   * Server CPU ms of the crypto in one full mutual handshake: one ECDSA sign (CertificateVerify),
   * one key generation (a fixed-base scalar multiplication, costed as a sign), two ECDSA verifies
   * (the client certificate's signature by the CA, the client's CertificateVerify) and one ECDH.
   */
  expectedServerMsPerHandshake: number;
}

/** Parses the ecdsa (nistp256) and ecdh (nistp256) lines of `openssl speed` output. */
export function parseOpensslSpeed(text: string): { signPerS: number; verifyPerS: number; ecdhPerS: number } | undefined {
  const ecdsa = /256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)/.exec(text);
  const ecdh = /256 bits ecdh \(nistp256\)\s+\S+s\s+([\d.]+)/.exec(text);
  if (!ecdsa || !ecdh) return undefined;
  return { signPerS: Number(ecdsa[1]), verifyPerS: Number(ecdsa[2]), ecdhPerS: Number(ecdh[1]) };
}

export function expectedHandshakeMs(s: { signPerS: number; verifyPerS: number; ecdhPerS: number }): number {
  const ms = 2 * (1000 / s.signPerS) + 2 * (1000 / s.verifyPerS) + 1000 / s.ecdhPerS;
  return Math.round(ms * 1000) / 1000;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** Runs `openssl speed -seconds N ecdhp256 ecdsap256` (about 3 × N s); a string says why it could not. */
export async function measureOpensslSpeed(seconds: number): Promise<OpensslSpeed | string> {
  try {
    const version = (await run(['version'])).trim();
    const parsed = parseOpensslSpeed(await run(['speed', '-seconds', String(seconds), 'ecdhp256', 'ecdsap256']));
    if (!parsed) return 'could not read the output of openssl speed';
    return { version, ...parsed, expectedServerMsPerHandshake: expectedHandshakeMs(parsed) };
  } catch (err) {
    return `openssl speed failed: ${(err as Error).message}`;
  }
}

export interface OpensslHandshakes {
  handshakes: number;
  /** CPU ms per full mutual handshake in `openssl s_server` (user + system, from /proc). */
  serverCpuMsPerHandshake: number;
}

/** The count from s_time's "N connections in Xs; ..." line. */
export function parseSTimeConnections(text: string): number | undefined {
  const m = /(\d+) connections in [\d.]+s;/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * OpenSSL's own TLS stack as the anchor: `openssl s_server` demanding a client certificate
 * (-Verify), driven by `openssl s_time -new` (a new connection each time, no resumption) with
 * the same certificates the sidecar uses. The server's CPU per handshake is what the same
 * library costs without Node around it. Linux only (/proc); a string says why it could not run.
 */
export async function measureOpensslHandshakes(files: { caFile: string; certFile: string; keyFile: string }, client: { certFile: string; keyFile: string }, seconds: number, cpuMs: (pid: number) => number | undefined): Promise<OpensslHandshakes | string> {
  const port = await freePort();
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', files.certFile, '-key', files.keyFile, '-CAfile', files.caFile, '-Verify', '1', '-naccept', '1000000', '-quiet'], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    // s_server says nothing when it listens: try the port, at most 100 times 20 ms apart.
    let up = false;
    for (let i = 0; i < 100 && !up && server.exitCode === null; i++) {
      up = await accepts(port);
      if (!up) await new Promise((r) => setTimeout(r, 20));
    }
    if (!up) return 'openssl s_server did not start';
    const before = cpuMs(server.pid ?? 0);
    const out = await run(['s_time', '-connect', `127.0.0.1:${port}`, '-new', '-cert', client.certFile, '-key', client.keyFile, '-CAfile', files.caFile, '-time', String(seconds)]);
    const after = cpuMs(server.pid ?? 0);
    const handshakes = parseSTimeConnections(out);
    if (!handshakes || before === undefined || after === undefined) return 'could not read s_time output or the server CPU';
    return { handshakes, serverCpuMsPerHandshake: Math.round(((after - before) / handshakes) * 1000) / 1000 };
  } catch (err) {
    return `openssl s_time failed: ${(err as Error).message}`;
  } finally {
    server.kill('SIGTERM');
  }
}
