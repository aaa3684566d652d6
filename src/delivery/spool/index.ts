/**
 * The disk spool (issue 13): see {@link Spool}.
 * @module
 */
export {
  DEFAULT_SPOOL_MAX_BYTES,
  DEFAULT_SYNC_INTERVAL_MS,
  Spool,
  type SpoolOpenResult,
  type SpoolOptions,
  spoolInUseMessage,
} from './spool.js';
export type { SpooledRecord } from './record-format.js';
export { LOCK_FILE, type LockOwner } from './directory-lock.js';
