import type { HttpsOptions } from 'got';
import type { ExitTls } from './exit-worker.js';

export type { ExitTls } from './exit-worker.js';

/** A PEM value (or list of them) that crosses to a worker as is. */
type Pem = string | Buffer | (string | Buffer)[];

function pem(value: unknown): Pem | undefined {
  const plain = (item: unknown): item is string | Buffer => typeof item === 'string' || Buffer.isBuffer(item);
  if (plain(value)) return value;
  return Array.isArray(value) && value.every(plain) ? value : undefined;
}

/**
 * The plain TLS settings of got's `https` option that the drain at exit can use: `certificateAuthority`, `key`,
 * `certificate`, `passphrase` and `rejectUnauthorized`, when they are strings or Buffers. Anything else (custom
 * `checkServerIdentity`, PFX, agents) is not used at exit.
 */
export function exitTls(https: HttpsOptions | undefined): ExitTls | undefined {
  if (https === undefined) return undefined;
  const tls = {
    ca: pem(https.certificateAuthority),
    key: pem(https.key),
    cert: pem(https.certificate),
    passphrase: typeof https.passphrase === 'string' ? https.passphrase : undefined,
    rejectUnauthorized: typeof https.rejectUnauthorized === 'boolean' ? https.rejectUnauthorized : undefined,
  };
  const given = Object.entries(tls).filter(([, value]) => value !== undefined);
  return given.length === 0 ? undefined : (Object.fromEntries(given) as ExitTls);
}
