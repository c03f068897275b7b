import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../config';

type TemporalConfig = AppConfig['temporal'];

/** TLS and API-key options shared by the client (API) and the worker's native connection. */
function connectionOptions(cfg: TemporalConfig, address: string) {
  const { tls } = cfg;
  return {
    address,
    apiKey: cfg.apiKey,
    tls: tls.enabled
      ? {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: tls.caPath ? fs.readFileSync(tls.caPath) : undefined,
          clientCertPair:
            tls.certPath && tls.keyPath ? { crt: fs.readFileSync(tls.certPath), key: fs.readFileSync(tls.keyPath) } : undefined,
        }
      : undefined,
  };
}

export async function connectClient(cfg: TemporalConfig, address: string): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(cfg, address));
  return new Client({ connection, namespace: cfg.namespace });
}

export async function connectWorker(cfg: TemporalConfig, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(cfg, address));
}
