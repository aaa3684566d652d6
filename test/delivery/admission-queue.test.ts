import { expect } from 'chai';
import { AdmissionQueue, type QueueLimits, REFUSED } from '../../src/delivery/admission-queue.js';
import { TARGET } from '../support/scripted-server.js';

describe('AdmissionQueue', function () {
  let notices: string[];

  function queueOf(limits: Partial<QueueLimits>): AdmissionQueue {
    notices = [];
    return new AdmissionQueue({ maxEntries: 4, maxBytes: 1000, overflow: 'drop-newest', ...limits }, (message) =>
      notices.push(message),
    );
  }

  function admitAll(queue: AdmissionQueue, count: number, size = 10): number[] {
    return Array.from({ length: count }, (_, i) => queue.admit(`e${i}`, size, TARGET, i));
  }

  it('numbers entries in acceptance order: the head has sequence accepted - length', function () {
    const queue = queueOf({});
    admitAll(queue, 3);
    expect(queue.take({ maxEntries: 2, maxBytes: Infinity })?.lines).to.deep.equal(['e0', 'e1']);
    expect({ accepted: queue.accepted, length: queue.length, headSeq: queue.headSeq }).to.deep.equal({
      accepted: 3,
      length: 1,
      headSeq: 2,
    });
    expect(queue.headAcceptedAtMs).to.equal(2);
  });

  it('drop-newest: refuses entries past maxEntries, counts them, and says so once per overload', function () {
    const queue = queueOf({});
    expect(admitAll(queue, 6)).to.deep.equal([0, 0, 0, 0, REFUSED, REFUSED]);
    expect({ accepted: queue.accepted, dropped: queue.dropped }).to.deep.equal({ accepted: 4, dropped: 2 });
    expect(notices).to.deep.equal(['queue full, dropping log entries']);
    queue.take({ maxEntries: 1, maxBytes: Infinity });
    expect(notices, 'three left: more than half of maxEntries').to.have.length(1);
    queue.take({ maxEntries: 1, maxBytes: Infinity });
    expect(notices).to.deep.equal([
      'queue full, dropping log entries',
      'queue has room again; 2 log entries were dropped',
    ]);
  });

  it('drop-oldest: older entries make way, and the count of them is returned', function () {
    const queue = queueOf({ overflow: 'drop-oldest' });
    expect(admitAll(queue, 6)).to.deep.equal([0, 0, 0, 0, 1, 1]);
    expect(queue.take({ maxEntries: 10, maxBytes: Infinity })?.lines).to.deep.equal(['e2', 'e3', 'e4', 'e5']);
    expect(queue.dropped).to.equal(2);
  });

  it('bounds bytes too, and refuses an entry larger than maxBytes whatever the policy', function () {
    const queue = queueOf({ maxEntries: 100, maxBytes: 25, overflow: 'drop-oldest' });
    expect(admitAll(queue, 3)).to.deep.equal([0, 0, 1]);
    expect(queue.admit('huge', 26, TARGET, 0)).to.equal(REFUSED);
    expect(queue.dropped).to.equal(2);
  });

  it('removes the entries below a sequence number, and only those', function () {
    const queue = queueOf({ maxEntries: 10 });
    admitAll(queue, 5);
    queue.take({ maxEntries: 1, maxBytes: Infinity }); // e0 is out of the queue
    expect(queue.removeBelow(3)).to.equal(2);
    expect(queue.removeBelow(3)).to.equal(0);
    expect(queue.take({ maxEntries: 10, maxBytes: Infinity })?.lines).to.deep.equal(['e3', 'e4']);
  });

  it('tells when it holds a full batch', function () {
    const queue = queueOf({ maxEntries: 10 });
    admitAll(queue, 3);
    expect(queue.holdsFullBatch({ maxEntries: 3, maxBytes: Infinity })).to.equal(true);
    expect(queue.holdsFullBatch({ maxEntries: 4, maxBytes: Infinity })).to.equal(false);
    expect(queue.holdsFullBatch({ maxEntries: 4, maxBytes: 30 })).to.equal(true);
    // The body's framing counts, as take() counts it: 30 bytes of entries, 3 separators and 1 byte per request.
    expect(queue.holdsFullBatch({ maxEntries: 4, maxBytes: 34 })).to.equal(true);
    expect(queue.holdsFullBatch({ maxEntries: 4, maxBytes: 35 })).to.equal(false);
    expect(queue.holdsFullBatch({ maxEntries: 4, maxBytes: 45, bytesPerEntry: 5, bytesPerRequest: 0 })).to.equal(true);
  });
});
