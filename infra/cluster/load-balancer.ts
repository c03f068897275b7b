/**
 * The load balancer in front of the API processes: Debian's HAProxy, installed like Chromium when
 * missing. Its own failures (a backend that died mid-request, none up) answer in the API's error
 * model as a retryable 503, so a client needs one retry rule for every outage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RETRY_AFTER_SECONDS } from '../../api/errors';
import { aptInstall } from '../provision/apt';
import type { ChildSpec } from './supervisor';

export const HAPROXY_PATH = process.env.HAPROXY_PATH || '/usr/sbin/haproxy';

export function ensureHaproxy(): string {
  if (fs.existsSync(HAPROXY_PATH)) return HAPROXY_PATH;
  if (process.env.HAPROXY_PATH) throw new Error(`HAPROXY_PATH=${HAPROXY_PATH} does not exist`);
  aptInstall(['haproxy'], 'the cluster load balancer (under a minute)', 'HAPROXY_PATH');
  if (!fs.existsSync(HAPROXY_PATH)) throw new Error(`apt installed haproxy but ${HAPROXY_PATH} is missing`);
  return HAPROXY_PATH;
}

function errorFile(dir: string, message: string): string {
  const body = JSON.stringify({ error: { code: 'api_unavailable', message } });
  const file = path.join(dir, 'unavailable.http');
  fs.writeFileSync(
    file,
    [
      'HTTP/1.1 503 Service Unavailable',
      'Content-Type: application/json; charset=utf-8',
      `Retry-After: ${RETRY_AFTER_SECONDS}`,
      'Cache-Control: no-cache',
      'Connection: close',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
  return file;
}

/**
 * Round robin over the APIs, each checked on /livez every second; a connection refused by a dead
 * API is retried on the other (nothing reached the dead one). Listens on loopback only.
 */
export function haproxySpec(opts: { port: number; backends: number[]; dataDir: string }): ChildSpec {
  const dir = path.join(opts.dataDir, 'haproxy');
  fs.mkdirSync(dir, { recursive: true });
  // One answer for a backend that died mid-request (502), none up (503) and a timeout (504).
  const unavailable = errorFile(dir, 'the API process behind the load balancer is unavailable; repeat the request in a few seconds');
  const config = [
    '# Written by infra/cluster/load-balancer.ts on every start.',
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    // Server-sent event streams stay open; the API sends a heartbeat well inside this.
    '  timeout tunnel 1h',
    // Only a refused connection is retried elsewhere: a request that reached a dying API may have acted.
    '  retries 3',
    '  option redispatch 1',
    ...[502, 503, 504].map((s) => `  errorfile ${s} ${unavailable}`),
    'frontend api',
    `  bind 127.0.0.1:${opts.port}`,
    '  option forwardfor',
    '  default_backend apis',
    'backend apis',
    '  balance roundrobin',
    '  option httpchk GET /livez',
    ...opts.backends.map((p, i) => `  server api${i + 1} 127.0.0.1:${p} check inter 1s fall 2 rise 1`),
    '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, config);
  return { name: 'haproxy', command: ensureHaproxy(), args: ['-W', '-db', '-f', file] };
}
