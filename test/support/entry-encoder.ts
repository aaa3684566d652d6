import type { EncodedRequest, RequestCodec } from '../../src/delivery/codec.js';
import type { LogInfo, Snapshotter } from '../../src/protocols/shared/encoder.js';
import { NEUTRAL_SNAPSHOTTER } from '../../src/protocols/shared/snapshot.js';

/** A protocol's request codec with the snapshotter that feeds it, as the transport pairs them. */
export interface EntryEncoder extends RequestCodec {
  /** The snapshot `log()` takes of `info` logged at `timeMs`: what {@link RequestCodec.encode} takes. */
  encodeEntry(info: LogInfo, timeMs: number): string;
}

/** `codec` with `snapshotter` (by default the backends' neutral one) as its {@link EntryEncoder.encodeEntry}. */
export function entryEncoder(codec: RequestCodec, snapshotter: Snapshotter = NEUTRAL_SNAPSHOTTER): EntryEncoder {
  return { ...codec, encodeEntry: (info, timeMs) => snapshotter.snapshot(info, timeMs) };
}

/** A request's body as text: a codec may give it as text or as its UTF-8 bytes. */
export function bodyText(request: EncodedRequest): string {
  return typeof request.body === 'string' ? request.body : request.body.toString('utf8');
}
