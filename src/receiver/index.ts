/**
 * `winston-logstream/receiver`: the dev receiver behind the `winston-logstream-receiver` command, for embedding
 * in a development script or a test: `const url = await createReceiver({ port: 0 }).start()`.
 * @packageDocumentation
 */
export {
  createReceiver,
  DEFAULT_MAX_BODY,
  DEFAULT_MAX_ENTRIES,
  type Receiver,
  type ReceiverOptions,
  type TextSink,
} from './receiver.js';
export { MAX_JSON_DEPTH } from './body.js';
export { formatEntry, formatSummary, type FormatOptions, type ReceiverSummary } from './format.js';
