import PQueue from 'p-queue';
import type { ServerTarget } from '../url.js';
import { AdmissionQueue, type QueueLimits, REFUSED } from './admission-queue.js';
import { type BacklogListener, BacklogMonitor, type BacklogThresholds } from './backlog-monitor.js';
import type { BatchLimits, RequestCodec } from './codec.js';
import type { DeliveryFailure } from './delivery-error.js';
import type { ExitBatch } from './exit-drain.js';
import { FlushBarrier } from './flush-barrier.js';
import { lingerMs } from './linger.js';
import { ProcessHold } from './process-hold.js';
import { RecoveryFeed } from './recovery-feed.js';
import { type GivenUp, type SpoolSettings, SpoolKeeper } from './spool-keeper.js';
import { type Flight, type FlightAttempt, RequestLoop, type Sender } from './request-loop.js';
import type { RetryPolicy } from './retry.js';
import { unrefTimeout } from './timers.js';

/**
 * How the engine tells its owner what happened: it never prints or emits anything itself. Every argument is plain
 * data, so that a report can cross from a worker thread as a {@link DeliveryReport}.
 */
export interface DeliveryObserver extends BacklogListener {
  /** An attempt failed. `firstOfOutage` is true for the first failure since the last success. */
  onFailure(failure: DeliveryFailure, firstOfOutage: boolean): void;
  /** A 2xx answer refused some entries for good; called for the first such answer only. */
  onRejected(failure: DeliveryFailure): void;
  /** A one-line operator notice (queue full, entries abandoned). */
  onNotice(message: string): void;
  /** Every accepted entry is settled: nothing is queued or in flight. */
  onIdle(): void;
}

/** One call of a {@link DeliveryObserver} method, as a message: `observer[report.type](...report.args)`. */
export type DeliveryReport = {
  [Type in keyof DeliveryObserver]: { readonly type: Type; readonly args: Parameters<DeliveryObserver[Type]> };
}[keyof DeliveryObserver];

/** Everything the engine needs; see {@link DeliveryEngine}. */
export interface DeliveryEngineOptions {
  readonly sender: Sender;
  readonly codec: RequestCodec;
  readonly batch: BatchLimits;
  readonly queue: QueueLimits;
  /** `false`: one attempt per request. */
  readonly retry: RetryPolicy | false;
  /**
   * How long a failing transport may keep the process alive, in ms since the start of the first failed attempt
   * (since the last success, or since the engine was last idle). After that, sending and retrying go on only while
   * something else keeps the process running.
   */
  readonly holdProcessMs: number;
  /** When to report that delivery is falling behind (not while delivery is failing); `false`: never. */
  readonly backlog: BacklogThresholds | false;
  /**
   * Keep entries on disk (see {@link SpoolSettings}); what an earlier run left is sent first, to `recoveryTarget`.
   */
  readonly spool?: SpoolSettings | undefined;
  /**
   * Where entries recovered from the spool go: the server in force at construction. Without one, they go to the
   * server of the first entry queued; a `finish()` called before that keeps them in the spool for the next run.
   */
  readonly recoveryTarget?: ServerTarget | undefined;
  /** Notices one-line reports; see {@link DeliveryObserver}. */
  readonly observer: DeliveryObserver;
  /** Told whenever entries settle (a request ended, entries were dropped or given up). */
  readonly onProgress?: (() => void) | undefined;
  /** Told when the engine starts holding the process alive (true) and stops (false); see {@link ProcessHold}. */
  readonly onHold?: ((holding: boolean) => void) | undefined;
  /** The clock, `Date.now` by default (timers are Node's: fake them in tests). */
  readonly now?: () => number;
  /**
   * When entries started coming (ms on the same clock): its backlog's age and rates count from then. Default: when
   * the engine is made. An engine made in the worker thread starts when its transport was made, since the
   * transport accepts entries while the worker starts.
   */
  readonly startedAtMs?: number;
  /**
   * Delivery is failing already, and its failure has been reported: the engine takes over from another one in
   * the middle of an outage (in-process, from a worker thread that died), and does not report it again.
   * Default: false.
   */
  readonly failing?: boolean;
  /** Source of jitter, `Math.random` by default. */
  readonly random?: () => number;
}

/** Counts since construction. */
export interface EngineCounts {
  /** Entries an earlier run left in the spool, sent first (they count in the outcomes too). */
  recovered: number;
  /** Entries kept in the spool for a later run (abandoned at a deadline, or unsettled at exit). */
  spooled: number;
  delivered: number;
  failed: number;
  dropped: number;
  pending: number;
  /** HTTP attempts made, retries included. */
  requests: number;
  /** Attempts that repeat earlier ones: the same request after a failure, or entries a server asked to have again. */
  retries: number;
}

/** The counts kept by the engine itself (the queue counts what it accepted and dropped, the spool what it kept). */
type OutcomeCounts = Omit<EngineCounts, 'dropped' | 'spooled'>;

/** The batch being sent: its entries are out of the queue but not yet settled. */
class InFlight implements Flight {
  /** Its entries not yet delivered or given up: a 413 split or a partial resend settles them a part at a time. */
  unsettled: number;
  attempt: FlightAttempt | undefined;
  readonly #counts: OutcomeCounts;

  /**
   * @param firstSeq - the sequence number (in acceptance order) of its first entry.
   * @param acceptedAtMs - when its first entry was accepted.
   * @param signal - aborted when a deadline abandons it.
   */
  constructor(
    readonly firstSeq: number,
    readonly lines: readonly string[],
    readonly acceptedAtMs: number,
    readonly signal: AbortSignal,
    counts: OutcomeCounts,
  ) {
    this.unsettled = lines.length;
    this.#counts = counts;
  }

  /**
   * The entries not yet settled, in order: the last `unsettled` of those of the request being attempted (or
   * waiting to be sent again) and the later halves of its 413 split (the drain at exit settles them from the
   * first); between requests, of the batch's.
   */
  unsettledLines(): readonly string[] {
    if (this.unsettled === 0) return [];
    const attempt = this.attempt;
    const lines =
      attempt === undefined ? this.lines : [...attempt.lines, ...attempt.after.flatMap((part) => part.lines)];
    return lines.slice(lines.length - this.unsettled);
  }

  /**
   * Where the entries not yet settled are in its batch, in order, as {@link unsettledLines} finds them: those of
   * the batch not among them are settled (a 413 split's earlier halves, or those of a 2xx answer not asked for
   * again).
   */
  unsettledPositions(): readonly number[] {
    if (this.unsettled === 0) return [];
    const attempt = this.attempt;
    if (attempt === undefined)
      return Array.from({ length: this.unsettled }, (_, i) => this.lines.length - this.unsettled + i);
    const positions = [...attempt.positions, ...attempt.after.flatMap((part) => part.positions)];
    return positions.slice(positions.length - this.unsettled);
  }

  delivered(entries: number): void {
    this.#counts.delivered += entries;
    this.unsettled -= entries;
  }

  failed(entries: number): void {
    this.#counts.failed += entries;
    this.unsettled -= entries;
  }
}

/**
 * The sidecar: a bounded queue of serialized entries ({@link AdmissionQueue}) and a single-concurrency p-queue that
 * sends them one request at a time ({@link RequestLoop}), in the order they were accepted. It composes the parts,
 * lingers for fuller batches, and gives up what a passed `finish()` deadline covers ({@link FlushBarrier}). It
 * knows nothing of winston or of wire formats, owns every timer it starts, and keeps no process-wide state.
 *
 * The lowest unsettled sequence is that of the request in flight, or else of the queue's head; `finish()` waits
 * for it to pass the count accepted at the call.
 *
 * Process lifetime: see {@link ProcessHold}. A `finish()` waiting with a deadline holds the process until that
 * deadline; one waiting without holds it for good.
 */
export class DeliveryEngine {
  readonly #options: DeliveryEngineOptions;
  readonly #now: () => number;
  readonly #startedAtMs: number;
  readonly #queue: AdmissionQueue;
  readonly #requests: RequestLoop;
  readonly #barrier = new FlushBarrier((belowSeq) => this.#abandonBelow(belowSeq));
  readonly #hold: ProcessHold;
  readonly #backlog: BacklogMonitor | undefined;
  /** Runs one task per request, one at a time: the task takes the next batch from the queue and sends it. */
  readonly #sidecar = new PQueue({ concurrency: 1 });
  /** The counts the queue does not keep. */
  readonly #counts: OutcomeCounts = { recovered: 0, delivered: 0, failed: 0, pending: 0, requests: 0, retries: 0 };
  /** A send task is queued or running and has not yet taken its batch. */
  #taskScheduled = false;
  #inFlight: InFlight | undefined;
  /** Wakes a lingering task early (a full batch, or a finish() call). */
  #wakeLinger: (() => void) | undefined;
  /** When the last request took its entries from the queue: the next that is not full lingers from there. */
  #lastSentMs = -Infinity;
  /** How many entries had been accepted then: those accepted since set the pace of the next (see lingerMs). */
  #acceptedAtLastTake = 0;
  /** When the last entry was accepted. */
  #lastArrivalMs = -Infinity;
  #outage = false;
  /** The entries accepted before this sequence number waited through an outage (see {@link #checkBacklog}). */
  #outageBacklogEndSeq = 0;
  /** Entries taken out of the queue by {@link takeForExit}, not yet settled, in order. */
  #takenAtExit: string[] = [];
  #rejectionReported = false;
  /** See {@link halt}. */
  #halted = false;
  /**
   * Aborts what is in flight when a deadline abandons it. Shared by every request until then and replaced
   * afterwards: one controller per request would cost more than the rest of the engine's work per request.
   */
  #abandonment = new AbortController();
  readonly #spool: SpoolKeeper | undefined;
  /** The entries an earlier run left in the spool, sent before any other. */
  readonly #recovery: RecoveryFeed | undefined;

  constructor(options: DeliveryEngineOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAtMs = Math.min(options.startedAtMs ?? Infinity, this.#now());
    this.#outage = options.failing ?? false;
    this.#queue = new AdmissionQueue(options.queue, (message) => options.observer.onNotice(message));
    this.#hold = new ProcessHold(options.holdProcessMs, () => this.unsettled > 0, this.#now, options.onHold);
    this.#requests = new RequestLoop({
      sender: options.sender,
      codec: options.codec,
      retry: options.retry,
      now: this.#now,
      random: options.random,
      events: {
        onAttempt: (retry) => {
          this.#counts.requests++;
          if (retry) this.#counts.retries++;
        },
        onFailure: (error, attemptStartedMs) => {
          const firstOfOutage = !this.#outage;
          // Set first: an observer may end the process (a drain at exit then sees the outage).
          this.#outage = true;
          options.observer.onFailure(error.toFailure(), firstOfOutage);
          this.#hold.failing(attemptStartedMs);
        },
        onSuccess: () => {
          // What the outage left is being sent now, as fast as the server takes it: not a backlog that grows.
          if (this.#outage) this.#outageBacklogEndSeq = this.#queue.accepted;
          this.#outage = false;
          this.#hold.recovered();
        },
        onRejected: (error) => {
          if (this.#rejectionReported) return;
          this.#rejectionReported = true;
          options.observer.onRejected(error.toFailure());
        },
        onNotice: (message) => options.observer.onNotice(message),
      },
    });
    if (options.backlog !== false) {
      this.#backlog = new BacklogMonitor(options.backlog, options.observer, this.#startedAtMs);
    }
    if (options.spool !== undefined) {
      [this.#spool, this.#recovery] = this.#openSpool(options.spool, options.recoveryTarget);
      // Once the feed is in place: the hold asks whether there is work, and the task takes from the feed.
      if (this.#recovery !== undefined && !this.#recovery.waitingForTarget) {
        this.#hold.workArrived();
        this.#scheduleTask();
      }
    }
  }

  /**
   * Opens the spool; what an earlier run left is sent before anything newer, read from the spool as it goes (see
   * {@link RecoveryFeed}): it takes the first sequence numbers.
   */
  #openSpool(settings: SpoolSettings, target: ServerTarget | undefined): [SpoolKeeper?, RecoveryFeed?] {
    const notice = (message: string): void => this.#options.observer.onNotice(message);
    const opened = SpoolKeeper.open(settings, notice);
    if (opened === undefined) return [];
    const { keeper, recovery } = opened;
    this.#counts.recovered = recovery.records + recovery.torn;
    if (recovery.torn > 0) {
      this.#counts.failed += recovery.torn;
      notice(`the spool held ${recovery.torn} torn or corrupt log entries (a crash mid-write); they were skipped`);
    }
    if (recovery.records === 0) return [keeper];
    this.#queue.reserve(recovery.records);
    const feed = new RecoveryFeed(
      keeper,
      recovery.records,
      target,
      this.#options.batch,
      this.#options.queue,
      (n, e) => {
        this.#counts.failed += n;
        notice(`the spool could not be read (${e.message}); ${n} recovered log entries were skipped`);
      },
    );
    return [keeper, feed];
  }

  /** Counts since construction (a copy). */
  get counts(): Readonly<EngineCounts> {
    return {
      ...this.#counts,
      dropped: this.#queue.dropped,
      spooled: this.#spool?.kept ?? 0,
    };
  }

  /**
   * Every entry accepted before this one is settled. Entries are numbered from 0 in the order they were accepted
   * (recovered ones first); the request in flight counts as unsettled until it ends.
   */
  get firstUnsettledSeq(): number {
    return this.#lowestUnsettledSeq();
  }

  /**
   * The sequence number after the entries of the request in flight ({@link firstUnsettledSeq} when there is none).
   * Entries from here up to {@link queueHeadSeq} were settled ahead of their turn: they made way for newer ones.
   */
  get flightEndSeq(): number {
    const flight = this.#inFlight;
    return flight === undefined ? this.#lowestUnsettledSeq() : flight.firstSeq + flight.lines.length;
  }

  /**
   * The request in flight, if any: its first sequence number, its entries, and where those not yet settled are
   * among them, in order (see {@link InFlight.unsettledPositions}).
   */
  get flight(): { firstSeq: number; length: number; unsettled: readonly number[] } | undefined {
    const flight = this.#inFlight;
    if (flight === undefined) return undefined;
    return { firstSeq: flight.firstSeq, length: flight.lines.length, unsettled: flight.unsettledPositions() };
  }

  /** The sequence number of the oldest entry still in the queue (or taken from it at exit and not yet settled). */
  get queueHeadSeq(): number {
    return this.#queue.headSeq - this.#takenAtExit.length;
  }

  /** A request is being sent (or waits to be retried). */
  get sending(): boolean {
    return this.#inFlight !== undefined;
  }

  /**
   * Starts no further request: the request in flight, if any, goes on. For the drain at exit in a worker thread,
   * whose event loop, unlike the application's, still runs while the process exits.
   */
  halt(): void {
    this.#halted = true;
  }

  /** Delivery is failing: the last attempt failed. */
  get failing(): boolean {
    return this.#outage;
  }

  /** Entries accepted and not yet settled: queued, in the request being sent, or recovered and not yet sent. */
  get unsettled(): number {
    const recovering = this.#recovery?.left ?? 0;
    return this.#queue.length + (this.#inFlight?.unsettled ?? 0) + this.#takenAtExit.length + recovering;
  }

  /**
   * For the drain at exit (no event loop runs any more): every unsettled entry, in order, in requests' worth — the
   * request in flight first, with its request id, then the later halves of its batch's 413 split, then the queue
   * taken in the usual batch bounds. Taken entries stay unsettled until {@link settleAtExit}. While entries
   * recovered from the spool are left, only the batch in flight is taken: the rest stays for the spool (see
   * {@link keepForNextRun}), in order.
   */
  takeForExit(): { batches: ExitBatch[]; failing: boolean } {
    const batches: ExitBatch[] = [];
    const attempt = this.#inFlight?.attempt;
    if (attempt !== undefined) {
      batches.push({ target: attempt.target, lines: attempt.lines, requestId: attempt.requestId });
      for (const { lines } of attempt.after) batches.push({ target: attempt.target, lines });
    }
    if ((this.#recovery?.left ?? 0) > 0) return { batches, failing: this.#outage };
    for (let batch = this.#queue.take(this.#options.batch); batch !== undefined;) {
      batches.push(batch);
      this.#takenAtExit.push(...batch.lines);
      batch = this.#queue.take(this.#options.batch);
    }
    return { batches, failing: this.#outage };
  }

  /**
   * Counts what the drain at exit did with the batches of {@link takeForExit}: the first `settled` entries, in
   * order, were delivered (`delivered` of them) or refused for good.
   */
  settleAtExit(delivered: number, settled: number): void {
    this.#counts.delivered += delivered;
    this.#counts.failed += settled - delivered;
    const flight = this.#inFlight;
    // takeForExit took the whole of the flight's unsettled entries when a request was being attempted.
    const fromFlight = Math.min(settled, flight?.attempt === undefined ? 0 : flight.unsettled);
    if (flight !== undefined) flight.unsettled -= fromFlight;
    this.#takenAtExit.splice(0, settled - fromFlight);
  }

  /** How long the oldest entry in memory (queued or in flight) has waited at `nowMs`, in ms; 0 when there is none. */
  oldestAgeMs(nowMs: number): number {
    // Recovered entries waiting for a server are all that is unsettled, and they are on disk, not in memory.
    if (this.unsettled === 0 || this.#recovery?.waitingForTarget) return 0;
    return Math.max(0, nowMs - this.#oldestAcceptedAtMs());
  }

  /**
   * Queues one serialized entry of `size` bytes for `target`, accepted at `nowMs`, applying the overflow policy.
   * O(1); allocates nothing but a send task when the queue was idle.
   * @returns false when the entry itself was dropped (drop-newest).
   */
  enqueue(line: string, size: number, target: ServerTarget, nowMs: number): boolean {
    if (this.#recovery?.waitingForTarget) this.#recovery.sendTo(target);
    const spool = this.#spool;
    if (spool !== undefined && !spool.hasRoomFor(size) && !this.#makeSpoolRoom(spool, size)) {
      this.#queue.countDropped(1);
      spool.countOverload(1);
      return false;
    }
    const madeWay = this.#queue.admit(line, size, target, nowMs);
    if (madeWay === REFUSED) return false;
    spool?.accepted(line, size, nowMs);
    this.#lastArrivalMs = nowMs;
    // Dropping the oldest settles entries below any finish() target.
    if (madeWay > 0) this.#settle();
    this.#hold.workArrived();
    this.#checkBacklog(nowMs);
    if (!this.#taskScheduled) this.#scheduleTask();
    else if (this.#wakeLinger !== undefined && this.#queue.holdsFullBatch(this.#options.batch)) this.#wakeLinger();
    return true;
  }

  /**
   * The spool is full (`'always'` mode): with `overflow: 'drop-oldest'`, the oldest unsettled entries that are not
   * in flight (recovered ones first, then queued ones) are dropped and counted until an entry of `size` bytes fits.
   * @returns whether it fits now.
   */
  #makeSpoolRoom(spool: SpoolKeeper, size: number): boolean {
    if (this.#options.queue.overflow !== 'drop-oldest' || !spool.canMakeRoom) return false;
    let dropped = 0;
    while (!spool.hasRoomFor(size)) {
      const seq = this.#recovery?.left ? this.#recovery.nextSeq : this.#queue.headSeq;
      let bytes = this.#recovery?.dropOldest();
      if (bytes === undefined && this.#queue.removeBelow(seq + 1, (line) => (bytes = Buffer.byteLength(line))) === 0) {
        break;
      }
      spool.droppedForRoom(seq, bytes as number);
      dropped++;
    }
    this.#queue.countDropped(dropped);
    // Settled first: what made way may free enough to end an overload, and this one's count must not end it.
    if (dropped > 0) this.#settle();
    spool.countOverload(dropped);
    const fits = spool.hasRoomFor(size);
    // Every unsettled entry made way and the new one is refused all the same: nothing is left, and no request will
    // end to say so (the send task finds the queue empty).
    if (dropped > 0 && !fits && this.unsettled === 0) this.#becomeIdle();
    return fits;
  }

  /**
   * Resolves once every entry accepted before the call is delivered or given up, or at `timeoutMs`.
   *
   * A deadline cuts only its own caller's wait. When it passes while other callers still wait, this caller is
   * resolved and nothing is given up. When it passes with no other caller waiting, every entry that some passed
   * deadline covered (accepted before that caller's call) and that is still unsettled is abandoned and counted as
   * pending; a request in flight that holds such an entry is abandoned whole. Entries accepted later stay queued.
   * @param timeoutMs - `Infinity` waits as long as it takes.
   */
  finish(timeoutMs: number): Promise<void> {
    if (this.#recovery?.waitingForTarget) this.#keepRecoveredWithoutServer();
    const seq = this.#queue.accepted;
    if (this.#lowestUnsettledSeq() >= seq) return Promise.resolve();
    const settled = this.#barrier.wait(seq, timeoutMs);
    this.#wakeLinger?.();
    return settled;
  }

  /**
   * No server was known when the engine was made, and no entry has named one since: the recovered entries stay in
   * the spool for the next run, rather than hold up a `finish()` that nothing could satisfy.
   */
  #keepRecoveredWithoutServer(): void {
    const given = this.#giveUpBelow((this.#recovery as RecoveryFeed).end);
    const kept = this.#keepOrCountPending(given);
    this.#options.observer.onNotice(
      `${kept} log entries recovered from the spool stay there for the next run: no server to send them to`,
    );
    this.#settle();
    if (this.unsettled === 0) this.#becomeIdle();
  }

  /**
   * Gives up every unsettled entry with a sequence number below `seq`: kept in the spool for a later run when there
   * is one (counted as spooled), else counted as pending.
   */
  #abandonBelow(seq: number): void {
    const given = this.#giveUpBelow(seq);
    if (given.count === 0) return;
    const kept = this.#keepOrCountPending(given);
    const full = kept < given.count ? ' (the spool is full)' : '';
    const spooled = kept > 0 ? `; ${kept} kept in the spool for the next run${full}` : '';
    this.#options.observer.onNotice(`${given.count} log entries were not delivered before the deadline${spooled}`);
    this.#settle();
    if (this.unsettled === 0) this.#becomeIdle();
  }

  /** Entries given up by this process: kept in the spool for a later run if there is one, else counted as pending. */
  #keepOrCountPending(given: GivenUp): number {
    const kept = this.#spool?.keep(given) ?? 0;
    this.#counts.pending += given.count - kept;
    return kept;
  }

  /**
   * Takes every unsettled entry below `seq` out of the engine (the request in flight is abandoned whole; recovered
   * entries are all given up, `seq` being past them: they stay in the spool).
   */
  #giveUpBelow(seq: number): GivenUp {
    const flight = this.#inFlight;
    const given: GivenUp = { firstSeq: this.#firstUnsettledSeq(), count: 0, fresh: [] };
    if (flight !== undefined && flight.firstSeq < seq) {
      const lines = flight.unsettledLines();
      given.count += lines.length;
      if (flight.firstSeq >= (this.#recovery?.end ?? 0)) {
        for (const line of lines) given.fresh.push({ line, acceptedAtMs: flight.acceptedAtMs });
      }
      this.#abandonment.abort();
      this.#abandonment = new AbortController();
      this.#inFlight = undefined;
    }
    // At exit, what the drain took from the queue and did not settle comes next, before anything queued after it
    // (by 'exit' listeners that ran after the drain). Only queue entries are taken, so none is a recovered one.
    if (this.#takenAtExit.length > 0) {
      const nowMs = this.#now();
      const taken = this.#takenAtExit.splice(0);
      for (const line of taken) given.fresh.push({ line, acceptedAtMs: nowMs });
      given.count += taken.length;
    }
    if (this.#recovery !== undefined && this.#recovery.nextSeq < seq) given.count += this.#recovery.giveUp();
    given.count += this.#queue.removeBelow(seq, (line, acceptedAtMs) => given.fresh.push({ line, acceptedAtMs }));
    return given;
  }

  /**
   * The process is exiting: whatever is still unsettled is kept in the spool for the next run (in order), and the
   * spool is closed. Synchronous, for the process 'exit' handler.
   * @returns how many entries were kept.
   */
  keepForNextRun(): number {
    const spool = this.#spool;
    if (spool === undefined) return 0;
    const given = this.#giveUpBelow(Infinity);
    const kept = this.#keepOrCountPending(given);
    // Before the spool is closed: what the drain at exit delivered is released, or the next run sends it again.
    this.#settle();
    spool.closeSync();
    this.#becomeIdle();
    return kept;
  }

  /** Nothing is queued or in flight: release the process and start the next outage's hold budget afresh. */
  #becomeIdle(): void {
    this.#hold.idle();
    this.#options.observer.onIdle();
  }

  #scheduleTask(): void {
    this.#taskScheduled = true;
    void this.#sidecar.add(() => this.#sendNextBatch());
  }

  #oldestAcceptedAtMs(): number {
    if (this.#inFlight !== undefined) return this.#inFlight.acceptedAtMs;
    return this.#recovery?.left ? this.#recovery.headAcceptedAtMs : this.#queue.headAcceptedAtMs;
  }

  /**
   * Falling behind is reported while delivery works (a failing server is reported as such), and not while entries
   * recovered from the spool are sent: they have waited since an earlier run, however fast delivery is. Nor is what
   * an outage left: until it is sent, only the entries that came after it count, by their number (not their age).
   */
  #checkBacklog(nowMs: number): void {
    if (this.#backlog === undefined || this.#outage) return;
    const lowest = this.#lowestUnsettledSeq();
    if (lowest < (this.#recovery?.end ?? 0)) return;
    const { delivered, failed } = this.#counts;
    // The monitor sees time move forward from the start only: an entry handed over by the application's thread is
    // checked at its acceptance time, and entries from before the start (handed over again after the worker died)
    // count as waiting since the start.
    const checkedAtMs = Math.max(nowMs, this.#startedAtMs);
    const leftByOutage = Math.max(0, this.#outageBacklogEndSeq - lowest);
    const oldestAtMs = leftByOutage > 0 ? checkedAtMs : Math.max(this.#oldestAcceptedAtMs(), this.#startedAtMs);
    const entries = this.unsettled - leftByOutage;
    this.#backlog.check(checkedAtMs, entries, oldestAtMs, this.#queue.accepted, delivered + failed);
  }

  /**
   * The sequence number of the first entry not yet settled, exactly: past what the request in flight (or the drain
   * at exit) has settled of its batch, and before what the drain at exit took from the queue and did not settle.
   */
  #firstUnsettledSeq(): number {
    const flight = this.#inFlight;
    if (flight !== undefined && flight.unsettled > 0) return flight.firstSeq + flight.lines.length - flight.unsettled;
    if (this.#recovery?.left) return this.#recovery.nextSeq;
    return this.#queue.headSeq - this.#takenAtExit.length;
  }

  #lowestUnsettledSeq(): number {
    if (this.#inFlight !== undefined) return this.#inFlight.firstSeq;
    return this.#recovery?.left ? this.#recovery.nextSeq : this.#queue.headSeq;
  }

  /** Where the next request's entries come from: what is left of the recovery first, then the queue. */
  #nextSource(): RecoveryFeed | AdmissionQueue {
    return this.#recovery?.left ? this.#recovery : this.#queue;
  }

  /** Resolves the finish() waiters whose entries are all settled, and releases their spool records. */
  #settle(): void {
    const lowest = this.#lowestUnsettledSeq();
    this.#barrier.settle(lowest);
    this.#spool?.settledBelow(lowest);
    this.#options.onProgress?.();
  }

  /** One p-queue task: lingers for a fuller batch (see {@link lingerMs}), takes it, schedules the next task, sends. */
  async #sendNextBatch(): Promise<void> {
    await this.#linger();
    if (this.#halted) {
      this.#taskScheduled = false;
      return;
    }
    const source = this.#nextSource();
    const firstSeq = source === this.#recovery ? source.nextSeq : this.#queue.headSeq;
    const acceptedAtMs = source.headAcceptedAtMs;
    const batch = source.take(this.#options.batch);
    this.#taskScheduled = false;
    if (batch === undefined) return; // abandoned while lingering
    this.#lastSentMs = this.#now();
    this.#acceptedAtLastTake = this.#queue.accepted;
    const flight = new InFlight(firstSeq, batch.lines, acceptedAtMs, this.#abandonment.signal, this.#counts);
    this.#inFlight = flight;
    if (this.#queue.length > 0 || this.#recovery?.left) this.#scheduleTask();
    try {
      await this.#requests.deliver(batch, flight);
    } catch (error) {
      // deliver() handles every outcome; reaching here is a bug, but it must not stop the sidecar.
      this.#options.observer.onNotice(`internal error: ${(error as Error).message}`);
      if (!flight.signal.aborted) flight.failed(flight.unsettled);
    }
    if (this.#inFlight === flight) this.#inFlight = undefined;
    this.#settle();
    this.#checkBacklog(this.#now());
    if (this.unsettled === 0) this.#becomeIdle();
  }

  /**
   * Waits as {@link lingerMs} says, asking again after each wait (the interval grows with the rate the wait showed),
   * unless the batch is full or finish() is waiting; either also cuts it short.
   */
  async #linger(): Promise<void> {
    const { batch } = this.#options;
    for (;;) {
      const nowMs = this.#now();
      // A clock set back: the pacing counts from now, or each wait would end before the clock caught up again.
      if (this.#lastSentMs > nowMs) this.#lastSentMs = nowMs;
      const arrived = this.#queue.accepted - this.#acceptedAtLastTake;
      const delayMs = lingerMs(batch.maxDelayMs, this.#lastSentMs, nowMs, arrived, this.#lastArrivalMs);
      if (delayMs <= 0 || this.#barrier.waiting > 0 || this.#queue.holdsFullBatch(batch)) return;
      // Recovered entries are all there already: no request of them waits for more.
      if (this.#recovery?.left) return;
      const woken = await new Promise<boolean>((resolve) => {
        // Looked at again after the event loop's I/O, not in its timers phase: after a stall of the loop, the
        // entries of the requests waiting on their sockets are logged first, and do not look like a silence.
        const timer = unrefTimeout(() => setImmediate(() => resolve(false)), delayMs);
        this.#wakeLinger = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      this.#wakeLinger = undefined;
      if (woken) return;
    }
  }
}
