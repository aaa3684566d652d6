import abstractTransportSuite from 'abstract-winston-transport';
import { expect } from 'chai';
import { type DeliveryStats, LogstreamTransport, type LogstreamTransportOptions } from '../src/index.js';
import type { LogInfo } from '../src/protocols/shared/encoder.js';
import { type TestReceiver, useTestReceiver } from './support/receiver.js';
import { StderrCapture } from './support/stderr.js';

/** A `log()` callback (the `'logged'` tests pass one: calling `log()` without one is tested on its own). */
const noop = (): void => undefined;

/** Lets the callbacks `setImmediate` queued so far run (winston's transports emit `'logged'` there). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The entries a transport received, in the order of its `'logged'` events. */
function recordLogged(transport: LogstreamTransport): LogInfo[] {
  const logged: LogInfo[] = [];
  transport.on('logged', (info: LogInfo) => logged.push(info));
  return logged;
}

describe("winston's transport contract", function () {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  /** How each target is set up, and what must have become of every entry the suite logged to it. */
  const TARGETS = [
    {
      name: 'a live receiver',
      options: (): LogstreamTransportOptions => ({ url: receiver.url() }),
      settled: 'delivered',
    },
    { name: 'no server (no url)', options: (): LogstreamTransportOptions => ({}), settled: 'skipped' },
  ] as const;

  for (const target of TARGETS) {
    describe(`abstract-winston-transport, against ${target.name}`, function () {
      const made: LogstreamTransport[] = [];
      /** The class under test, recording its instances so that each is drained and checked after its test. */
      class RecordedTransport extends LogstreamTransport {
        constructor(options: LogstreamTransportOptions) {
          super(options);
          made.push(this);
        }
      }

      abstractTransportSuite({
        name: 'LogstreamTransport',
        Transport: RecordedTransport,
        construct: target.options,
        afterEach: (_options, done) => {
          Promise.all(made.splice(0).map((transport) => transport.finish()))
            .then((allStats) => {
              for (const stats of allStats) {
                expect(stats[target.settled], `every entry ${target.settled}`).to.equal(stats.logged);
              }
            })
            .then(() => done(), done);
        },
      });
    });
  }

  describe('log() without a callback', function () {
    it('neither throws nor loses the entry: the receiver gets it', async function () {
      const transport = new LogstreamTransport({ url: receiver.url() });
      expect(() => transport.log({ level: 'info', message: 'no callback' })).to.not.throw();
      await transport.finish();

      expect(await receiver.entries()).to.have.length(1);
      expect((await receiver.entries())[0]).to.include({ level: 'info', message: 'no callback' });
    });
  });

  describe("the 'logged' event", function () {
    const throwingPayload = (): never => {
      throw new Error('cannot serialize');
    };
    /** Whatever becomes of an entry once `log()` took it (the count it ends up in), `'logged'` is emitted for it. */
    const OUTCOMES: { counted: keyof DeliveryStats; why: string; options: () => LogstreamTransportOptions }[] = [
      { counted: 'delivered', why: '', options: () => ({ url: receiver.url() }) },
      { counted: 'skipped', why: ' (no server)', options: () => ({}) },
      {
        counted: 'failed',
        why: ' (not serializable)',
        options: () => ({ url: receiver.url(), payload: throwingPayload }),
      },
      { counted: 'dropped', why: ' (over maxEntryBytes)', options: () => ({ url: receiver.url(), maxEntryBytes: 64 }) },
    ];

    for (const { counted, why, options } of OUTCOMES) {
      it(`is emitted with the entry, after log() returned, for an entry ${counted}${why}`, async function () {
        const transport = new LogstreamTransport(options());
        const logged = recordLogged(transport);
        const first: LogInfo = { level: 'info', message: 'first', padding: 'x'.repeat(100) };
        const second: LogInfo = { level: 'warn', message: { not: 'a string' }, padding: 'x'.repeat(100) };
        const stderr = StderrCapture.start();
        try {
          transport.log(first, noop);
          transport.log(second, noop);
          expect(logged, 'deferred, as winston emits it').to.deep.equal([]);
          await nextTurn();
        } finally {
          stderr.restore();
        }

        expect(logged).to.have.length(2);
        expect(logged[0]).to.equal(first);
        expect(logged[1]).to.equal(second);
        expect((await transport.finish())[counted]).to.equal(2);
      });
    }

    it('is not emitted for an entry logged while nobody listened', async function () {
      const transport = new LogstreamTransport({});
      transport.log({ level: 'info', message: 'unheard' }, noop);
      const logged = recordLogged(transport);
      transport.log({ level: 'info', message: 'heard' }, noop);
      await nextTurn();

      expect(logged.map((info) => info.message)).to.deep.equal(['heard']);
    });
  });
});
