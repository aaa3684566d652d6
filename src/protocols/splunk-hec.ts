/**
 * Splunk's HTTP Event Collector (`POST /services/collector/event`): event objects written one after another.
 * @see https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/format-events-for-http-event-collector
 * @module
 */
import type { BatchLimits, EncodedRequest, RequestCodec } from '../delivery/codec.js';
import type { BackendLimits, ProtocolDefinition } from './shared/definition.js';
import { JSON_HEADERS } from './shared/encoder.js';
import { optionalStrings, requiredSecret, secretHeader, section } from './shared/option-checks.js';
import { readSnapshot, snapshotBounds } from './shared/snapshot.js';
import { epochSecondsText } from './shared/timestamp.js';

/** Options of `protocol: 'splunk-hec'` (Splunk's HTTP Event Collector, `…/services/collector/event`). */
export interface SplunkHecOptions {
  /** The HEC token, sent as `Authorization: Splunk <token>`. Required unless `headers` has `Authorization`. Never appears in diagnostics. */
  token?: string;
  /** The events' `host`. Default none (Splunk uses the sender's address). */
  host?: string;
  /** The events' `source`. Default none (the token's default). */
  source?: string;
  /** The events' `sourcetype`. Default none (the token's default, usually `httpevent`); `_json` extracts the event's fields. */
  sourcetype?: string;
  /** The events' `index`. Default none (the token's default index). */
  index?: string;
}

/** The transport option of `protocol: 'splunk-hec'`. */
export interface SplunkHecOption {
  /** Settings of `protocol: 'splunk-hec'`; required there (for `token`), refused with any other protocol. */
  splunkHec?: SplunkHecOptions;
}

/** The resolved settings of the `'splunk-hec'` protocol: event metadata, each left out when undefined. */
export interface SplunkHecSettings {
  readonly host: string | undefined;
  readonly source: string | undefined;
  readonly sourcetype: string | undefined;
  readonly index: string | undefined;
}

/**
 * Batching limits for HEC: 1,000 events and just under 1 MB, the `max_content_length` of older Splunk
 * Enterprise releases and a size Splunk Cloud handles without tuning.
 */
export const SPLUNK_HEC_LIMITS: BackendLimits = {
  maxEntries: 1000,
  maxBytes: 1_000_000,
};

/**
 * The `'splunk-hec'` protocol. An entry is one event object: `time` (epoch seconds with milliseconds), the
 * `host`, `source`, `sourcetype` and `index` settings that are set, and `event`, the entry's fields (`level`
 * without terminal colour codes, see `uncolouredLevel`). A request
 * is its events concatenated, as HEC's batch format has them.
 */
export function createSplunkHecCodec(settings: SplunkHecSettings, batch: BatchLimits): RequestCodec {
  // The metadata is the same for every event: serialized once, between `time` and `event`.
  const metadata = JSON.stringify({
    host: settings.host,
    source: settings.source,
    sourcetype: settings.sourcetype,
    index: settings.index,
  }).slice(1, -1);
  const separator = metadata === '' ? '' : `,${metadata}`;
  const event = (snapshot: string): string => {
    const { timeMs, fieldsJson } = readSnapshot(snapshot);
    return `{"time":${epochSecondsText(timeMs)}${separator},"event":${fieldsJson}}`;
  };
  return {
    // An event adds `{"time":<at most 20 characters>`, the metadata and `,"event":` to the fields, and `}`.
    batch: snapshotBounds(batch, { factor: 1, bytesPerEntry: 38 + Buffer.byteLength(separator), bytesPerRequest: 0 }),
    encode: (lines): EncodedRequest => ({ body: lines.map(event).join(''), headers: JSON_HEADERS }),
  };
}

/** The `'splunk-hec'` protocol: event metadata from the `splunkHec` option, the token as `Authorization`. */
export const splunkHec: ProtocolDefinition<'splunk-hec', SplunkHecOption, SplunkHecSettings> = {
  name: 'splunk-hec',
  optionKey: 'splunkHec',
  limits: SPLUNK_HEC_LIMITS,
  resolve(given, userHeaders) {
    const options = section<SplunkHecOptions>(given, 'splunkHec');
    const token = requiredSecret(options.token, 'splunkHec.token', 'authorization', userHeaders);
    return {
      settings: {
        name: 'splunk-hec',
        ...optionalStrings(options, ['host', 'source', 'sourcetype', 'index'], 'splunkHec'),
      },
      headers: secretHeader('authorization', token, 'Splunk'),
      compressByDefault: false,
    };
  },
  createCodec: createSplunkHecCodec,
};
