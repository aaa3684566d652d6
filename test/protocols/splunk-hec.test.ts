import { expect } from 'chai';
import { createSplunkHecCodec, SPLUNK_HEC_LIMITS } from '../../src/protocols/splunk-hec.js';
import { defaultBatch } from '../../src/protocols/shared/definition.js';
import { parseConcatenatedJson } from '../support/responders.js';
import { bodyText, entryEncoder } from '../support/entry-encoder.js';

/**
 * Golden bodies written from Splunk's "Format events for HTTP Event Collector" (event metadata `time` in epoch
 * seconds, "1433188255.500 indicates 1433188255 seconds and 500 milliseconds after epoch", `host`, `source`,
 * `sourcetype`, `index`, `event`; a batch is the event objects one after another):
 * https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/format-events-for-http-event-collector
 */
describe('protocols/splunk-hec', function () {
  const timeMs = 1433188255500; // the reference's example time

  it('writes each entry as an event with time in epoch seconds and milliseconds, and the metadata set', function () {
    const encoder = entryEncoder(
      createSplunkHecCodec(
        { host: 'web-01', source: 'checkout', sourcetype: '_json', index: 'main' },
        defaultBatch(SPLUNK_HEC_LIMITS),
      ),
    );
    const request = encoder.encode([
      encoder.encodeEntry({ level: 'info', message: 'order placed', orderId: 'o-1' }, timeMs),
      encoder.encodeEntry({ level: 'error', message: 'payment failed' }, timeMs + 7),
    ]);
    expect(request.headers['content-type']).to.equal('application/json');
    expect(bodyText(request)).to.equal(
      '{"time":1433188255.500,"host":"web-01","source":"checkout","sourcetype":"_json","index":"main",' +
        '"event":{"level":"info","message":"order placed","orderId":"o-1"}}' +
        '{"time":1433188255.507,"host":"web-01","source":"checkout","sourcetype":"_json","index":"main",' +
        '"event":{"level":"error","message":"payment failed"}}',
    );
  });

  it('leaves out the metadata that is not set', function () {
    const encoder = entryEncoder(
      createSplunkHecCodec(
        { host: undefined, source: undefined, sourcetype: undefined, index: undefined },
        defaultBatch(SPLUNK_HEC_LIMITS),
      ),
    );
    expect(bodyText(encoder.encode([encoder.encodeEntry({ level: 'info', message: 'm' }, 1000)]))).to.equal(
      '{"time":1.000,"event":{"level":"info","message":"m"}}',
    );
  });

  it('writes a body that parses back into one event per entry (schema: time number, event object)', function () {
    const encoder = entryEncoder(
      createSplunkHecCodec(
        { host: 'h', source: undefined, sourcetype: undefined, index: undefined },
        defaultBatch(SPLUNK_HEC_LIMITS),
      ),
    );
    const messages = ['a', 'b"}{', 'c\n{"event":1}'];
    const events = parseConcatenatedJson(
      bodyText(
        encoder.encode(messages.map((message, i) => encoder.encodeEntry({ level: 'info', message }, timeMs + i))),
      ),
    );
    expect(events).to.have.length(3);
    events.forEach((event, i) => {
      expect(event).to.have.all.keys('time', 'host', 'event');
      expect((event as { time: unknown }).time)
        .to.be.a('number')
        .and.equal((timeMs + i) / 1000);
      expect((event as { event: { message: string } }).event.message).to.equal(messages[i]);
    });
  });
});
