/**
 * Splunk's HTTP Event Collector (`POST /services/collector/event`): event objects written one after another.
 * @see https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/format-events-for-http-event-collector
 * @module
 */
import type { BatchLimits, EncodedRequest } from '../delivery/codec.js';
import { type Encoder, entryFields, JSON_HEADERS, type LogInfo } from './encoder.js';
import { epochSecondsText } from './timestamp.js';

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
export const SPLUNK_HEC_LIMITS: BatchLimits = { maxEntries: 1000, maxBytes: 1_000_000, maxDelayMs: 100 };

/**
 * The `'splunk-hec'` protocol. An entry is one event object: `time` (epoch seconds with milliseconds), the
 * `host`, `source`, `sourcetype` and `index` settings that are set, and `event`, the entry's fields (`level`
 * without terminal colour codes, see {@link uncolouredLevel}). A request
 * is its events concatenated, as HEC's batch format has them.
 */
export function createSplunkHecEncoder(settings: SplunkHecSettings, batch: BatchLimits): Encoder {
  // The metadata is the same for every event: serialized once, between `time` and `event`.
  const metadata = JSON.stringify({
    host: settings.host,
    source: settings.source,
    sourcetype: settings.sourcetype,
    index: settings.index,
  }).slice(1, -1);
  const separator = metadata === '' ? '' : `,${metadata}`;
  return {
    batch,
    encodeEntry: (info: LogInfo, timeMs: number): string =>
      `{"time":${epochSecondsText(timeMs)}${separator},"event":${JSON.stringify(entryFields(info))}}`,
    encode: (lines): EncodedRequest => ({ body: lines.join(''), headers: JSON_HEADERS }),
  };
}
