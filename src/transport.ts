import winston from 'winston';
import TransportStream from 'winston-transport';
import type { BacklogReport } from './delivery/backlog-monitor.js';
import type { DeliveryObserver, EngineCounts } from './delivery/engine.js';
import { DeliveryError, type DeliveryFailure } from './delivery/delivery-error.js';
import { drainAtExit, type ExitOutcome, type ExitSource, startExitDrain } from './delivery/exit-drain.js';
import { exitTls } from './delivery/exit-tls.js';
import { isRetryableStatus } from './delivery/retry.js';
import {
  createEngine,
  createRequestParts,
  type EngineParts,
  type EngineSettings,
  engineSettings,
  type LocalParts,
  type RequestParts,
  USER_AGENT,
} from './engine-setup.js';
import {
  EncodeError,
  type EntrySize,
  formattedOutput,
  type LogInfo,
  type Snapshotter,
} from './protocols/shared/encoder.js';
import { encodeTruncated } from './protocols/shared/entry-size.js';
import { createSnapshotter } from './protocols/index.js';
import { type FinishOptions, type LogstreamTransportOptions, type ResolvedOptions, resolveOptions } from './options.js';
import type { SettledAtExit } from './thread/messages.js';
import { sidecar } from './thread/sidecar.js';
import { claimedSpoolDirMessage, claimSpoolDir, releaseSpoolDir } from './thread/spool-claims.js';
import { addCounts, type Delivery, ThreadDelivery } from './thread/thread-delivery.js';
import type { ServerTarget } from './url.js';

/** What every `format.json()` instance runs (a method shared through its prototype). */
const JSON_FORMAT_TRANSFORM = winston.format.json().transform;

/** winston's `json()` with no options: one line of JSON, keys sorted, values as `JSON.stringify` writes them. */
function isPlainJsonFormat(format: winston.Logform.Format | undefined): boolean {
  return format?.transform === JSON_FORMAT_TRANSFORM && Object.keys(format.options ?? {}).length === 0;
}

/** A stream piping entries into the transport: a winston logger, whose `format` wrote them. */
interface FormattedSource {
  readonly format?: winston.Logform.Format;
}

/** Every diagnostic line starts with this. */
const PREFIX = 'winston-logstream: ';

/** Delivery counts since the transport was made. */
export interface DeliveryStats {
  /** Entries handed to the transport (`log()` calls that passed the level filter). */
  logged: number;
  /** Entries the server accepted. */
  delivered: number;
  /** Entries given up: refused by the server, out of retries, or impossible to serialize. */
  failed: number;
  /** Entries dropped because the queue was full, or because they were over `maxEntryBytes` even truncated. */
  dropped: number;
  /** Entries logged while no server was set. */
  skipped: number;
  /** Entries abandoned when a `finish()` or shutdown deadline ran out (and not kept in a spool). */
  pending: number;
  /** Entries kept in the spool for a later run: abandoned at a deadline, or unsettled at exit (see `spool`). */
  spooled: number;
  /**
   * Entries an earlier run left in the spool, sent first; they count in the outcomes too, so that
   * `logged + recovered` = `delivered + failed + dropped + skipped + pending + spooled + queued`.
   */
  recovered: number;
  /** Entries in memory now: queued, or in the request being sent. */
  queued: number;
  /**
   * How long the oldest entry in memory has waited, in ms (0 when there is none): a backlog that keeps growing
   * shows here first. Summed stats (those of {@link Logstream.finish}) take the largest.
   */
  oldestQueuedMs: number;
  /** HTTP attempts made, retries included. */
  requests: number;
  /** Attempts that were retries of an earlier one. */
  retries: number;
}

/** Adds up several transports' stats (`oldestQueuedMs`: the largest). */
export function sumStats(all: readonly DeliveryStats[]): DeliveryStats {
  const total = emptyStats();
  for (const stats of all) {
    for (const key of Object.keys(total) as (keyof DeliveryStats)[]) {
      total[key] = key === 'oldestQueuedMs' ? Math.max(total[key], stats[key]) : total[key] + stats[key];
    }
  }
  return total;
}

function emptyStats(): DeliveryStats {
  return {
    logged: 0,
    delivered: 0,
    failed: 0,
    dropped: 0,
    skipped: 0,
    pending: 0,
    spooled: 0,
    recovered: 0,
    queued: 0,
    oldestQueuedMs: 0,
    requests: 0,
    retries: 0,
  };
}

/** The line that says delivery is falling behind, with what to do about it. */
function fallingBehindNotice(report: BacklogReport, batched: boolean): string {
  const remedy = batched
    ? 'the server takes entries more slowly than the application logs them: use a faster server or a larger batch'
    : 'set batch: true to send many entries per request, or use a faster server';
  return (
    `falling behind: ${report.entries} log entries in memory, the oldest waiting ${report.oldestMs} ms ` +
    `(${report.acceptedPerSecond} logged/s, ${report.sentPerSecond} sent/s); ${remedy}`
  );
}

function printNotice(message: string): void {
  process.stderr.write(`${PREFIX}${message}\n`);
}

/**
 * Transports with entries unsettled (accepted, not yet delivered or given up), so that an exit with entries
 * undelivered is reported once. Holding them strongly also keeps them in reach of a Logstream's `finish()`, which
 * holds its transports weakly.
 */
const busyTransports = new Set<LogstreamTransport>();
/** In-process engines with a spool: at exit they keep what is unsettled for the next run, and close their spool. */
const spoolingEngines = new Set<EngineParts['engine']>();
/** Transports delivering from the sidecar worker: at exit the worker drains them all at once. */
const threadTransports = new Set<LogstreamTransport>();
let exitListenerInstalled = false;

function markBusy(transport: LogstreamTransport): void {
  busyTransports.add(transport);
  if (exitTimeoutOf(transport) > 0) void startExitDrain();
  listenForExit();
}

function listenForExit(): void {
  if (exitListenerInstalled) return;
  exitListenerInstalled = true;
  process.on('exit', atExit);
}

/** Entries taken for the drain at exit: see `DeliveryEngine.takeForExit`. */
type TakenEntries = Pick<ExitSource, 'batches' | 'failing'>;

/** Set in LogstreamTransport's static block: what module code may know of a transport's private state. */
let exitTimeoutOf: (transport: LogstreamTransport) => number;
/**
 * What the drain at exit sends for a transport: `taken`, the entries a thread-mode transport's engine gave back,
 * or else those taken from its in-process engine (`undefined` for a thread-mode transport without `taken`).
 */
let exitSourceOf: (
  transport: LogstreamTransport,
  taken: TakenEntries | undefined,
  exitTimeoutMs?: number,
) => ExitSource | undefined;
let settleAtExit: (transport: LogstreamTransport, outcome: ExitOutcome) => void;
/** The transport's stream in the sidecar worker; `undefined` when it delivers in-process. */
let threadStreamOf: (transport: LogstreamTransport) => number | undefined;
/** A thread-mode transport delivers in-process from now on, if it kept entries (see `ThreadDelivery.fallBackAtExit`). */
let fallBackAtExit: (transport: LogstreamTransport) => void;

/** How long an exit waits for the sidecar worker to answer (it may still be starting). */
const SIDECAR_EXIT_WAIT_MS = 2000;

/** One transport's part in the drain at exit. */
interface ExitPart {
  /** Its entries unsettled before the drain. */
  readonly unsettled: number;
  /** What the drain sends for it; `undefined` when it sends nothing (`exitTimeoutMs: 0`). */
  readonly source: ExitSource | undefined;
  /** Records what the drain did with `source`, where its entries' engine is. */
  readonly settle: (outcome: ExitOutcome) => void;
}

/**
 * At exit: drains what is unsettled (see exit-drain.ts; thread-mode transports' entries are first taken back from
 * the sidecar worker), keeps what is still unsettled in the spools for the next run, then reports what was not
 * delivered.
 */
function atExit(): void {
  exitDrainStartedAtMs = Date.now();
  const fromWorker = takeFromWorkerAtExit();
  // After that: a thread-mode transport whose worker did not answer delivers in-process from here.
  const parts = [...inProcessExitParts(), ...fromWorker.parts];
  const drained = parts.filter((part) => part.source !== undefined);
  const outcomes = drainAtExit(drained.map((part) => part.source as ExitSource));
  drained.forEach((part, i) => part.settle(outcomes[i] as ExitOutcome));
  let undelivered = 0;
  for (const part of parts) undelivered += part.unsettled;
  for (const outcome of outcomes) undelivered -= outcome.delivered;
  let kept = fromWorker.keep();
  for (const engine of spoolingEngines) kept += engine.keepForNextRun();
  if (undelivered === 0) return;
  const spooled = kept > 0 ? `; ${kept} kept in the spool for the next run` : '';
  printNotice(`process exiting with ${undelivered} log entries not delivered${spooled}`);
}

/** When the drain at exit began (epoch ms), once it has: see {@link drainLateEntry}. */
let exitDrainStartedAtMs: number | undefined;
/** An entry logged after the drain at exit could not be delivered: said once. */
let lateLossReported = false;

/**
 * An entry was accepted by an in-process transport after the drain at exit ran (logged by an `'exit'` listener that
 * runs after the transport's): it is sent at once, as the drain would have, within what is left of the exit budget.
 * What cannot be (past the budget, or not taken by the server) is said once, in one line. (A thread-mode
 * transport's goes to the worker, whose event loop still runs.)
 */
function drainLateEntry(transport: LogstreamTransport): void {
  const budgetMs = (exitDrainStartedAtMs as number) + exitTimeoutOf(transport) - Date.now();
  const source = budgetMs > 0 ? exitSourceOf(transport, undefined, budgetMs) : undefined;
  let undelivered = 1;
  if (source !== undefined) {
    const outcome = drainAtExit([source])[0] as ExitOutcome;
    settleAtExit(transport, outcome);
    undelivered = source.batches.reduce((entries, batch) => entries + batch.lines.length, 0) - outcome.delivered;
  }
  if (undelivered === 0 || lateLossReported) return;
  lateLossReported = true;
  printNotice(
    "process exiting: log entries logged after the drain at exit (by a later 'exit' listener) were not delivered",
  );
}

/** The parts of the transports delivering in-process: their entries are taken from their own engines. */
function inProcessExitParts(): ExitPart[] {
  const parts: ExitPart[] = [];
  for (const transport of busyTransports) {
    if (threadStreamOf(transport) !== undefined) continue;
    parts.push({
      unsettled: transport.stats().queued,
      source: exitTimeoutOf(transport) > 0 ? exitSourceOf(transport, undefined) : undefined,
      settle: (outcome) => settleAtExit(transport, outcome),
    });
  }
  return parts;
}

/** The thread-mode transports' parts in the drain at exit. */
interface FromWorkerAtExit {
  readonly parts: readonly ExitPart[];
  /**
   * After the drain: tells the worker what the drain did, and has its engines keep what is left in their spools.
   * @returns how many entries the worker's spools kept.
   */
  readonly keep: () => number;
}

/**
 * Takes the thread-mode transports' unsettled entries back from the sidecar worker. When the worker does not
 * answer, its transports fall back to in-process delivery, from the entries they kept, and have no part here.
 */
function takeFromWorkerAtExit(): FromWorkerAtExit {
  const byStream = new Map<number, LogstreamTransport>();
  for (const transport of threadTransports) {
    const stream = threadStreamOf(transport);
    if (stream !== undefined) byStream.set(stream, transport);
  }
  const taken = byStream.size === 0 ? undefined : sidecar().takeAtExit([...byStream.keys()], SIDECAR_EXIT_WAIT_MS);
  if (taken === undefined) {
    for (const transport of byStream.values()) fallBackAtExit(transport);
    return { parts: [], keep: () => 0 };
  }
  const settled: SettledAtExit[] = [];
  const parts = taken.map(({ stream, batches, failing, unsettled }): ExitPart => {
    const transport = byStream.get(stream) as LogstreamTransport;
    return {
      unsettled,
      source: exitTimeoutOf(transport) > 0 ? exitSourceOf(transport, { batches, failing }) : undefined,
      settle: (outcome) => settled.push({ stream, ...outcome }),
    };
  });
  return { parts, keep: () => sidecar().keepAtExit(settled, SIDECAR_EXIT_WAIT_MS) ?? 0 };
}

/**
 * A winston transport that ships every entry to an HTTP log server, in order, without making the caller wait
 * for the network. See docs/options.md and docs/guarantees.md for the options, guarantees and failure reporting.
 *
 * Emits `'warn'` with a {@link DeliveryError} for every failed attempt; never emits `'error'` for a delivery
 * problem.
 */
export class LogstreamTransport extends TransportStream {
  readonly #options: ResolvedOptions;
  readonly #logstream: LogstreamTransportOptions['logstream'];
  readonly #snapshotter: Snapshotter;
  #engine: Delivery;
  /** The in-process engine's parts, for the drain at exit; `undefined` in thread mode. */
  #inProcess: EngineParts | undefined;
  /** What the in-process engine is made with besides {@link #settings}: a new one is made if the spool was given up. */
  readonly #local: LocalParts;
  /** The in-process engine gave its spool up as the transport left (see {@link #giveSpoolUp}). */
  #spoolGivenUp = false;
  /** The counts of the in-process engines replaced before the current one (see {@link #reopenInProcess}). */
  #replacedCounts: EngineCounts | undefined;
  /** What the engine is made from: in thread mode, the drain at exit builds its requests from it too. */
  #settings: EngineSettings;
  /** In thread mode, what the drain at exit builds and sends requests with, made at exit (the engine is in the worker). */
  #requestParts: RequestParts | undefined;
  readonly #onDeliveryError: LogstreamTransportOptions['onDeliveryError'];
  /** Counts of what never reached the engine. */
  readonly #intake = { logged: 0, skipped: 0, failed: 0, dropped: 0 };
  /** Reused for every entry: where the snapshotter reports an entry's size when it knows it. */
  readonly #entrySize: EntrySize = { bytes: -1 };
  /** Closed or ended: leaves its Logstream once nothing is unsettled. */
  #retired = false;
  /** Retired and settled: it has left its Logstream and, in thread mode, the sidecar worker. */
  #left = false;
  #serializationReported = false;
  #oversizeReported = false;
  /** The loggers piping into this transport (usually one), and that one when there is exactly one. */
  readonly #sources = new Set<FormattedSource>();
  #soleSource: FormattedSource | undefined;
  /** The last format found to be a plain `json()`, so that the check is not repeated for every entry. */
  #plainJsonFormat: winston.Logform.Format | undefined;

  static {
    exitTimeoutOf = (transport) => transport.#options.exitTimeoutMs;
    exitSourceOf = (transport, taken, exitTimeoutMs) => transport.#exitSource(taken, exitTimeoutMs);
    settleAtExit = (transport, outcome) =>
      transport.#engineParts()?.engine.settleAtExit(outcome.delivered, outcome.settled);
    threadStreamOf = (transport) =>
      transport.#engine instanceof ThreadDelivery ? transport.#engine.stream : undefined;
    fallBackAtExit = (transport) => {
      if (transport.#engine instanceof ThreadDelivery) transport.#engine.fallBackAtExit();
    };
  }

  /** @throws TypeError naming the option when an option is invalid. */
  constructor(options: LogstreamTransportOptions = {}) {
    super(options);
    this.#options = resolveOptions(options);
    this.#logstream = options.logstream;
    this.#onDeliveryError = options.onDeliveryError;
    this.on('pipe', (source: FormattedSource) => this.#trackSource(source, true));
    this.on('unpipe', (source: FormattedSource) => this.#trackSource(source, false));
    this.#snapshotter = createSnapshotter(this.#options);
    const recoveryTarget = this.#options.target ?? this.#logstream?.currentTarget();
    const settings = engineSettings(this.#options, recoveryTarget, exitTls(options.https));
    if (this.#options.thread) {
      this.#settings = settings;
      this.#claimSpool();
      this.#local = {};
      this.#engine = new ThreadDelivery(settings, this.#observer());
      threadTransports.add(this);
      listenForExit();
      return;
    }
    this.#settings = settings;
    this.#local = { agent: options.agent, https: options.https };
    this.#inProcess = this.#startInProcess();
    this.#engine = this.#inProcess.engine;
    // From the start, so that the drain runs at an exit whose first entry comes from an 'exit' listener.
    listenForExit();
  }

  /**
   * Makes the in-process engine; with a spool, what it recovered makes the transport busy at once. A spool whose
   * directory a thread-mode transport of this process claimed is refused, as the lock would refuse it.
   */
  #startInProcess(): EngineParts {
    if (this.#settings.spool !== undefined && this.#spoolClaimedByThread()) {
      this.#settings = { ...this.#settings, spool: undefined };
    }
    const parts = createEngine(this.#settings, this.#observer(), this.#local);
    if (this.#settings.spool !== undefined) {
      spoolingEngines.add(parts.engine);
      // Entries recovered from the spool are unsettled: an exit before they are delivered reports them.
      if (parts.engine.unsettled > 0) markBusy(this);
    }
    return parts;
  }

  /**
   * Serializes the entry now and queues it for the server in force now; calls `callback`, if given, at once.
   * Never throws: an entry that cannot be serialized is counted as failed, one that does not fit is counted as
   * dropped.
   *
   * Emits `'logged'` with the entry on the next turn of the event loop, as winston's own transports do, for every
   * entry it takes (queued, skipped, failed or dropped: as `stats().logged` counts them); that means taken, not
   * delivered. Only when a `'logged'` listener is registered at the time of the call.
   */
  override log(info: LogInfo, callback?: () => void): void {
    // Given an entry after it left (closed, then used again without winston piping it again): in use again.
    if (this.#left) this.#rejoin();
    this.#intake.logged++;
    const target = this.#logstream === undefined ? this.#options.target : this.#logstream.currentTarget();
    if (target === undefined) this.#intake.skipped++;
    else this.#accept(info, target);
    // Checked here so that, with nobody listening (winston itself never does), log() schedules nothing.
    if (this.listenerCount('logged') > 0) setImmediate(() => this.emit('logged', info));
    callback?.();
  }

  #accept(info: LogInfo, target: ServerTarget): void {
    const timeMs = Date.now();
    let line: string | undefined;
    try {
      const measured = this.#entrySize;
      measured.bytes = -1;
      line = this.#snapshotter.snapshot(info, timeMs, measured, this.#fieldsJsonOf(info));
      let size = measured.bytes >= 0 ? measured.bytes : Buffer.byteLength(line);
      if (size > this.#options.maxEntryBytes) {
        line = encodeTruncated(this.#snapshotter, info, timeMs, this.#options.maxEntryBytes, size);
        if (line === undefined) return this.#dropOversize(size);
        size = Buffer.byteLength(line);
      }
      // Busy only once an entry is accepted: one dropped by an idle queue would never see onIdle. Marked by set
      // membership, not by `unsettled` reaching 1: in thread mode the worker's entries recovered from the spool
      // may come first.
      if (this.#engine.enqueue(line, size, target, timeMs)) {
        if (!busyTransports.has(this)) markBusy(this);
        if (exitDrainStartedAtMs !== undefined && this.#inProcess !== undefined) drainLateEntry(this);
      }
    } catch (error) {
      this.#intake.failed++;
      if (this.#serializationReported) return;
      this.#serializationReported = true;
      const why = error instanceof EncodeError ? error.message : error instanceof Error ? error.name : typeof error;
      printNotice(`could not serialize a log entry (${why}); it was not sent`);
    }
  }

  /**
   * The JSON of the entry's fields that winston's `json()` format already wrote, when the format that ran last is
   * a plain `json()`: the transport's own format, else that of its one logger (live: `logger.configure()` may
   * replace it). With several loggers, an entry's output may come from any of their formats, so none is trusted.
   */
  #fieldsJsonOf(info: LogInfo): string | undefined {
    const format = this.format ?? this.#soleSource?.format;
    if (format === undefined) return undefined;
    if (format !== this.#plainJsonFormat) {
      if (!isPlainJsonFormat(format)) return undefined;
      this.#plainJsonFormat = format;
    }
    const text = formattedOutput(info);
    return typeof text === 'string' && text[0] === '{' && text[text.length - 1] === '}' ? text : undefined;
  }

  #trackSource(source: FormattedSource, piped: boolean): void {
    // Added to a logger again after winston closed it (logger.remove, then logger.add): in use again.
    if (piped && this.#retired) this.#rejoin();
    if (piped) this.#sources.add(source);
    else this.#sources.delete(source);
    this.#soleSource = this.#sources.size === 1 ? this.#sources.values().next().value : undefined;
  }

  #dropOversize(size: number): void {
    this.#intake.dropped++;
    if (this.#oversizeReported) return;
    this.#oversizeReported = true;
    printNotice(
      `dropped a log entry of ${size} bytes: over maxEntryBytes (${this.#options.maxEntryBytes}) even with its message truncated`,
    );
  }

  /**
   * Resolves when every entry logged before the call has been delivered or given up, or at the deadline
   * (`timeoutMs`, default `shutdownTimeoutMs`). Callers may overlap; the transport stays usable afterwards.
   *
   * A deadline cuts only its own caller's wait: if another caller is still waiting (another `finish()`, or
   * `logger.end()`), this one resolves with the stats of that moment (what is left shows in `queued`) and nothing is
   * abandoned. When the last waiting caller's deadline passes, what the passed deadlines covered and is still
   * unsettled is abandoned, counted as `pending`, and one stderr line says how many; entries logged after those
   * calls stay queued.
   */
  async finish(options: FinishOptions = {}): Promise<DeliveryStats> {
    const timeoutMs = options.timeoutMs ?? this.#options.shutdownTimeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      throw new TypeError('winston-logstream: option "timeoutMs" of finish() must be a number >= 0');
    }
    await this.#engine.finish(timeoutMs);
    return this.stats();
  }

  /** The counts so far. */
  stats(): DeliveryStats {
    const engine = addCounts(this.#engine.counts, this.#replacedCounts);
    const intake = this.#intake;
    return {
      logged: intake.logged,
      delivered: engine.delivered,
      failed: engine.failed + intake.failed,
      dropped: engine.dropped + intake.dropped,
      skipped: intake.skipped,
      pending: engine.pending,
      spooled: engine.spooled,
      recovered: engine.recovered,
      queued: this.#engine.unsettled,
      oldestQueuedMs: this.#engine.oldestAgeMs(Date.now()),
      requests: engine.requests,
      retries: engine.retries,
    };
  }

  /** winston's `logger.end()` / `transport.end()`: `'finish'` is emitted only once the queue has drained (or the shutdown deadline ran out). */
  override _final(callback: (error?: Error | null) => void): void {
    const done = (): void => {
      this.#retire();
      callback();
    };
    this.finish().then(done, done);
  }

  /**
   * Called by winston when the transport is removed from a logger: queued entries are still delivered, and a
   * Logstream's `finish()` still waits for them; then the transport leaves its Logstream.
   */
  override close(): void {
    this.#retire();
  }

  /** The in-process engine: the transport's own, or the one a thread-mode transport fell back to. */
  #engineParts(): EngineParts | undefined {
    return this.#inProcess ?? (this.#engine instanceof ThreadDelivery ? this.#engine.fallback : undefined);
  }

  /**
   * What the drain at exit needs of this transport: its unsettled entries and settings. The entries are `taken`
   * (given back by the sidecar worker), or else taken from its in-process engine; `undefined` when there is none.
   * @param exitTimeoutMs - the budget, `exitTimeoutMs` by default.
   */
  #exitSource(taken: TakenEntries | undefined, exitTimeoutMs = this.#options.exitTimeoutMs): ExitSource | undefined {
    const parts = this.#engineParts();
    const entries = taken ?? parts?.engine.takeForExit();
    if (entries === undefined) return undefined;
    const { codec, sender } = parts ?? (this.#requestParts ??= createRequestParts(this.#settings));
    return {
      ...entries,
      codec,
      prepare: (target, body, headers, count) => sender.prepareSync(target, body, headers, count),
      userAgent: USER_AGENT,
      timeoutMs: this.#options.timeoutMs,
      exitTimeoutMs,
      isRetryableStatus: codec.isRetryableStatus ?? isRetryableStatus,
      tls: this.#settings.tls,
    };
  }

  #retire(): void {
    this.#retired = true;
    if (this.#engine.unsettled === 0) this.#leave();
  }

  /** In use again after it was retired: back in its Logstream and, in thread mode, among the worker's transports. */
  #rejoin(): void {
    this.#retired = false;
    if (!this.#left) return;
    this.#left = false;
    this.#logstream?.rejoin(this);
    if (this.#spoolGivenUp) this.#reopenInProcess();
    // Its closed stream in the worker is opened again by its next entry.
    if (this.#engine instanceof ThreadDelivery) {
      threadTransports.add(this);
      this.#claimSpool();
    }
  }

  /** Retired and settled: leaves its Logstream and, in thread mode, the sidecar worker. */
  #leave(): void {
    if (this.#left) return;
    this.#left = true;
    this.#logstream?.release(this);
    if (this.#inProcess !== undefined && this.#settings.spool !== undefined) this.#giveSpoolUp(this.#inProcess.engine);
    if (this.#engine instanceof ThreadDelivery) {
      this.#engine.close();
      threadTransports.delete(this);
      this.#releaseSpoolClaim();
    }
  }

  /**
   * Left with nothing unsettled: the in-process engine closes its spool, so that a transport made later in this
   * process can own the directory (as a thread-mode transport's engine in the worker does when its stream closes).
   */
  #giveSpoolUp(engine: EngineParts['engine']): void {
    spoolingEngines.delete(engine);
    engine.keepForNextRun();
    this.#spoolGivenUp = true;
  }

  /** In use again after its engine gave the spool up: a new in-process engine opens it again, counting on. */
  #reopenInProcess(): void {
    this.#replacedCounts = addCounts(this.#engine.counts, this.#replacedCounts);
    this.#spoolGivenUp = false;
    this.#inProcess = this.#startInProcess();
    this.#engine = this.#inProcess.engine;
  }

  /** Thread mode: the spool's directory is this transport's from now on (see spool-claims.ts). */
  #claimSpool(): void {
    if (this.#options.spool !== undefined) claimSpoolDir(this.#options.spool.dir, this);
  }

  /** Thread mode, settled and left: the worker closes the spool, and the directory is free again. */
  #releaseSpoolClaim(): void {
    if (this.#options.spool !== undefined) releaseSpoolDir(this.#options.spool.dir, this);
  }

  /**
   * In-process: whether a thread-mode transport of this process claimed the spool's directory (its worker may not
   * have opened it yet); if so, says so as the lock would, and the transport runs without a spool.
   */
  #spoolClaimedByThread(): boolean {
    const refusal = this.#options.spool === undefined ? undefined : claimedSpoolDirMessage(this.#options.spool.dir);
    if (refusal !== undefined) printNotice(refusal);
    return refusal !== undefined;
  }

  #observer(): DeliveryObserver {
    return {
      onFailure: (failure: DeliveryFailure, firstOfOutage: boolean) => {
        const error = new DeliveryError(failure);
        if (firstOfOutage) this.#reportError(error);
        this.emit('warn', error);
      },
      onRejected: (failure: DeliveryFailure) => this.#reportError(new DeliveryError(failure)),
      onNotice: printNotice,
      onFallingBehind: (report) => printNotice(fallingBehindNotice(report, this.#options.batch !== undefined)),
      onCaughtUp: (behindMs) =>
        printNotice(
          `caught up: the backlog is gone (delivered, or given up at a deadline), ${behindMs} ms after falling behind`,
        ),
      onIdle: () => {
        // From an engine replaced since (see #reopenInProcess), whose request abandoned at a deadline ended late:
        // the transport's current engine may be busy.
        if (this.#engine.unsettled > 0) return;
        busyTransports.delete(this);
        if (this.#retired) this.#leave();
      },
    };
  }

  #reportError(error: DeliveryError): void {
    if (this.#onDeliveryError === undefined) return printNotice(error.message);
    try {
      this.#onDeliveryError(error);
    } catch {
      printNotice(`onDeliveryError threw while handling: ${error.message}`);
    }
  }
}
