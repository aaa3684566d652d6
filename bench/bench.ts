/**
 * `npm run bench`: this transport against winston's own Http transport, a no-op transport, plain got and raw
 * node:http, on one receiver in its own process on 127.0.0.1. This transport runs one entry per request, and
 * batched.
 *
 * Every variant runs in a fresh child process (so that its peak RSS is its own), logging through one winston
 * logger (default format, `json()`) in bursts of 1,000 `logger.info('message', { seq, ...4 fields })` calls per
 * event-loop turn. Before the measured run, the same code runs through separate transport instances on the same
 * logger (warm-up), so that the figures are those of optimized code, as in a long-running application; then a
 * full garbage collection, then the measured run.
 * µs per log(): time spent inside `logger.info()` over the measured run, and over its first N/40 calls (as many as
 * a one-entry-per-request run makes: the first calls of any run cost more, so that run is compared with the no-op's
 * first calls). Entries/s: from the first `logger.info()`
 * to the end of `finish()` (winston's Http transport: to the receiver counting the last entry; plain got and raw
 * node:http: to the last response). Client CPU µs/entry: the variant process's CPU time (user and system) over
 * the measured run, per entry: less sensitive than entries/s to the load of a shared machine. Busy µs/entry: the
 * application thread's event-loop utilization (its active time) over the measured run, per entry; in thread
 * mode, the sending is on the worker and not in it.
 *
 * Thread mode runs as `batched-thread` (one transport with `thread: true`) and `thread-x10` (ten, each on its own
 * logger and path, sharing the process's one worker, the same entries in all, dealt out in turn). The
 * OpenTelemetry SDK (`otel-sdk`: its winston transport, a BatchLogRecordProcessor with a 100,000 queue and
 * batches of 1,000, the OTLP/HTTP JSON exporter) runs between `batched-otlp` and `otlp-thread` (`'otlp'` in
 * thread mode); what it fails to deliver, or delivers out of order, is reported, not failed.
 *
 *   npm run bench -- [--entries N] [--rounds R] [--warmup W] [--json] [--only a,b] [--cpu-prof DIR]
 *
 * --entries N   entries for the fast variants (default 100,000; rounded up to a multiple of 1,000 so that
 *               winston's batchCount-1000 batches are all full); the one-entry-per-request variants (this
 *               transport's, plain got's, raw node:http's) use N/40.
 * --rounds R    run every variant R times, in turn (default 3; see RUN_ORDER); the table shows each figure's
 *               median, and each target the median of its ratio within each round (with every round's ratio).
 * --warmup W    entries logged through separate instances before each measured run (default 20,000; see
 *               WARMUP_LOG_ENTRIES): fewer for a quick check, such as the smoke tests, at the cost of figures of
 *               code not yet optimized.
 * --json        print one JSON object instead of the table.
 * --only a,b    run only these variants (ratios needing the others are left out).
 * --cpu-prof D  write a V8 CPU profile of each variant process into directory D.
 *
 * Exits non-zero when this transport's variants did not deliver every entry, in order.
 */
import { fork } from 'node:child_process';
import { childExecArgv, format, machine, median, printColumns, ratio, Receiver, script } from './common.js';
import {
  type RunCount,
  type RunSpec,
  ONE_PER_REQUEST_VARIANTS,
  OUR_VARIANTS,
  RUN_ORDER,
  VARIANTS,
  type VariantCommand,
  type VariantMessage,
  type VariantName,
  type VariantResult,
} from './protocol.js';

const DEFAULT_ENTRIES = 100_000;
const DEFAULT_ROUNDS = 3;
/** The one-entry-per-request variants run at a few thousand entries per second: they get this fraction. */
const ONE_PER_REQUEST_SHARE = 1 / 40;

const DESCRIPTIONS: Record<VariantName, string> = {
  noop: 'winston → no-op transport (ceiling)',
  'winston-http': 'winston transports.Http, batch, batchCount 1000',
  'one-per-request': 'winston-logstream, one entry per request',
  batched: 'winston-logstream, batch: true',
  'batched-thread': 'winston-logstream, batch: true, thread: true',
  'thread-x10': 'winston-logstream, 10 × (batch: true, thread: true)',
  'batched-spool': "winston-logstream, batch: true, spool mode 'always'",
  'batched-otlp': "winston-logstream, protocol: 'otlp' (OTLP/HTTP JSON)",
  'otlp-thread': "winston-logstream, protocol: 'otlp', thread: true",
  'otel-sdk': 'OpenTelemetry SDK: winston transport, batch processor, OTLP/HTTP JSON',
  'batched-loki': "winston-logstream, protocol: 'loki'",
  'batched-elasticsearch': "winston-logstream, protocol: 'elasticsearch' (_bulk)",
  'plain-got': 'plain got, one POST at a time (floor)',
  'plain-http': 'raw node:http, one POST at a time (reference)',
};

interface Options {
  entries: number;
  rounds: number;
  warmupEntries: number;
  json: boolean;
  only: readonly VariantName[];
  cpuProfDir: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    entries: DEFAULT_ENTRIES,
    rounds: DEFAULT_ROUNDS,
    warmupEntries: WARMUP_LOG_ENTRIES,
    json: false,
    only: VARIANTS,
    cpuProfDir: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--entries') options.entries = Number(value());
    else if (arg === '--rounds') options.rounds = Number(value());
    else if (arg === '--warmup') options.warmupEntries = Number(value());
    else if (arg === '--cpu-prof') options.cpuProfDir = value();
    else if (arg === '--only') {
      const names = value().split(',');
      for (const name of names)
        if (!(VARIANTS as readonly string[]).includes(name)) throw new Error(`unknown variant ${name}`);
      options.only = names as VariantName[];
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isSafeInteger(options.entries) || options.entries < 1000)
    throw new Error('--entries must be an integer >= 1000');
  if (!Number.isSafeInteger(options.rounds) || options.rounds < 1) throw new Error('--rounds must be an integer >= 1');
  if (!Number.isSafeInteger(options.warmupEntries) || options.warmupEntries < 1)
    throw new Error('--warmup must be an integer >= 1');
  options.entries = Math.ceil(options.entries / 1000) * 1000;
  return options;
}

function entriesFor(variant: VariantName, entries: number): number {
  return ONE_PER_REQUEST_VARIANTS.includes(variant)
    ? Math.max(100, Math.round(entries * ONE_PER_REQUEST_SHARE))
    : entries;
}

/** Entries logged through separate instances before a measured run: V8 needs about this many to optimize winston's path. */
const WARMUP_LOG_ENTRIES = 20_000;
/** Requests made before a measured one-entry-per-request run, to optimize the request path. */
const WARMUP_REQUESTS = 500;

/**
 * The warm-up runs before a measured run: the same code through separate instances, so that the measured run
 * sees optimized code, as a long-running application would. The one-entry-per-request variants warm their
 * `log()` path through a batched instance (the same `log()` code) and their request path with a few hundred
 * requests: tens of thousands of requests would take minutes.
 */
function warmups(
  variant: VariantName,
  entries: number,
  warmupEntries: number,
): { variant: VariantName; entries: number }[] {
  const requests = Math.min(WARMUP_REQUESTS, Math.ceil(entries / 5));
  switch (variant) {
    case 'one-per-request':
      return [
        { variant: 'batched', entries: warmupEntries },
        { variant, entries: requests },
      ];
    case 'plain-got':
    case 'plain-http':
      return [{ variant, entries: requests }];
    default:
      return [{ variant, entries: warmupEntries }];
  }
}

/** One run of one variant. */
interface Measurement {
  readonly usPerLog: number | undefined;
  /** µs per log() over the run's first N/40 calls: the whole of a one-entry-per-request run. */
  readonly usPerLogFirst: number | undefined;
  readonly entriesPerSecond: number;
  readonly elapsedMs: number;
  readonly feedMs: number;
  /** The variant process's CPU time per entry, in µs. */
  readonly cpuUsPerEntry: number;
  /** The application thread's busy time (event-loop utilization) per entry, in µs. */
  readonly busyUsPerEntry: number | undefined;
  /** Of the busy time, roughly, the time the thread waited for a CPU, per entry, in µs (Linux only). */
  readonly cpuWaitUsPerEntry: number | undefined;
  /** The busy time less that wait. */
  readonly busyLessCpuWaitUsPerEntry: number | undefined;
  readonly requests: number;
  readonly peakRssMiB: number;
  readonly received: RunCount;
  readonly stats: Readonly<Record<string, number>> | undefined;
}

type Figure =
  | 'usPerLog'
  | 'usPerLogFirst'
  | 'entriesPerSecond'
  | 'elapsedMs'
  | 'feedMs'
  | 'cpuUsPerEntry'
  | 'busyUsPerEntry'
  | 'cpuWaitUsPerEntry'
  | 'busyLessCpuWaitUsPerEntry'
  | 'requests'
  | 'peakRssMiB';

/** One variant over every round: each figure's median, and every run for the record. */
interface Row {
  readonly variant: VariantName;
  readonly description: string;
  readonly entries: number;
  readonly median: Readonly<Record<Figure, number | undefined>>;
  /** Every round delivered every entry in order (informational for the variants that do not promise order). */
  readonly inOrder: boolean;
  readonly rounds: readonly Measurement[];
}

function summarize(variant: VariantName, entries: number, rounds: readonly Measurement[]): Row {
  const figures: Figure[] = [
    'usPerLog',
    'usPerLogFirst',
    'entriesPerSecond',
    'elapsedMs',
    'feedMs',
    'cpuUsPerEntry',
    'busyUsPerEntry',
    'cpuWaitUsPerEntry',
    'busyLessCpuWaitUsPerEntry',
    'requests',
    'peakRssMiB',
  ];
  const medians = Object.fromEntries(figures.map((f) => [f, median(rounds.map((r) => r[f]))])) as Record<
    Figure,
    number | undefined
  >;
  return {
    variant,
    description: DESCRIPTIONS[variant],
    entries,
    median: medians,
    inOrder: rounds.every((r) => r.received.inOrder),
    rounds,
  };
}

function runVariant(
  variant: VariantName,
  run: string,
  entries: number,
  firstEntries: number,
  receiver: Receiver,
  options: Pick<Options, 'warmupEntries' | 'cpuProfDir'>,
): Promise<VariantResult> {
  const child = fork(script('./variant-process.ts'), [], { execArgv: childExecArgv(options.cpuProfDir) });
  // The plain variants end at their last response, without waiting for the receiver's count: its `complete`
  // can come after they have exited, and is not theirs to read then.
  const send = (command: VariantCommand): void => {
    if (child.connected) child.send(command);
  };
  const spec = (name: string, runVariant: VariantName, count: number): RunSpec => {
    receiver.expect(name, count, (at) => send({ type: 'complete', run: name, at }));
    return { variant: runVariant, url: `http://127.0.0.1:${receiver.port}/${name}`, entries: count, firstEntries };
  };
  const warmupRuns = warmups(variant, entries, options.warmupEntries).map((w, i) =>
    spec(`${run}-warmup${i + 1}`, w.variant, w.entries),
  );
  const measured = spec(run, variant, entries);
  return new Promise((resolve, reject) => {
    let result: VariantResult | undefined;
    child.on('message', (message: VariantMessage) => {
      if (message.type === 'ready') send({ type: 'start', warmups: warmupRuns, measured });
      else result = message.result;
    });
    child.once('exit', (code) =>
      result === undefined ? reject(new Error(`variant ${variant} exited (${code})`)) : resolve(result),
    );
  });
}

async function measure(
  variant: VariantName,
  run: string,
  entries: number,
  receiver: Receiver,
  options: Options,
): Promise<Measurement> {
  const firstEntries = entriesFor('one-per-request', options.entries);
  const result = await runVariant(variant, run, entries, firstEntries, receiver, options);
  const received = await receiver.count(run);
  return {
    usPerLog: result.usPerLog,
    usPerLogFirst: result.usPerLogFirst,
    entriesPerSecond: (entries * 1000) / result.elapsedMs,
    elapsedMs: result.elapsedMs,
    feedMs: result.feedMs,
    cpuUsPerEntry: (result.cpuMs * 1000) / entries,
    busyUsPerEntry: result.busyUsPerEntry,
    cpuWaitUsPerEntry: result.cpuWaitUsPerEntry,
    busyLessCpuWaitUsPerEntry:
      result.busyUsPerEntry === undefined || result.cpuWaitUsPerEntry === undefined
        ? undefined
        : result.busyUsPerEntry - result.cpuWaitUsPerEntry,
    requests: received.requests,
    peakRssMiB: result.peakRssBytes / 2 ** 20,
    received,
    stats: result.stats,
  };
}

interface Target {
  readonly name: string;
  /** The median over rounds of the ratio within each round. */
  readonly value: number | undefined;
  /** The ratio within each round, in round order. */
  readonly rounds: readonly (number | undefined)[];
  /** `>= x` or `<= x`; undefined for a ratio printed for reference, without a target. */
  readonly bound: string | undefined;
  /** Undefined when not measured, or without a target. */
  readonly met: boolean | undefined;
}

/** One variant's figure against another's: a target with `atLeast` or `atMost`, a reference figure without. */
interface Comparison {
  readonly name: string;
  readonly numerator: readonly [VariantName, Figure];
  readonly denominator: readonly [VariantName, Figure];
  readonly atLeast?: number;
  readonly atMost?: number;
  /** Compare by difference (numerator − denominator) rather than by ratio. */
  readonly difference?: boolean;
}

const COMPARISONS: readonly Comparison[] = [
  {
    name: 'batched rate / winston Http rate',
    numerator: ['batched', 'entriesPerSecond'],
    denominator: ['winston-http', 'entriesPerSecond'],
    atLeast: 1.5,
  },
  {
    name: 'batched rate / no-op rate',
    numerator: ['batched', 'entriesPerSecond'],
    denominator: ['noop', 'entriesPerSecond'],
    atLeast: 0.5,
  },
  {
    name: 'one-per-request rate / plain got rate',
    numerator: ['one-per-request', 'entriesPerSecond'],
    denominator: ['plain-got', 'entriesPerSecond'],
    atLeast: 2,
  },
  // How close got, set up once (src/delivery/prepared-got.ts), comes to Node's own client: no target.
  {
    name: 'one-per-request rate / raw node:http rate',
    numerator: ['one-per-request', 'entriesPerSecond'],
    denominator: ['plain-http', 'entriesPerSecond'],
  },
  {
    name: 'batched µs per log() / no-op',
    numerator: ['batched', 'usPerLog'],
    denominator: ['noop', 'usPerLog'],
    atMost: 1.5,
  },
  // The spool in 'always' mode: appending every entry must cost the application little, and writing it little.
  {
    name: "batched + spool 'always' rate / batched rate",
    numerator: ['batched-spool', 'entriesPerSecond'],
    denominator: ['batched', 'entriesPerSecond'],
    atLeast: 0.7,
  },
  {
    name: "batched + spool 'always' µs per log() − batched's",
    numerator: ['batched-spool', 'usPerLog'],
    denominator: ['batched', 'usPerLog'],
    difference: true,
    atMost: 1,
  },
  // The backend protocols build their records when a request is built, not in log(): a batched logger.info()
  // costs about what it costs with the plain 'http' protocol.
  ...(['batched-otlp', 'batched-loki', 'batched-elasticsearch'] as const).map((variant): Comparison => ({
    name: `${variant} µs per log() / batched's`,
    numerator: [variant, 'usPerLog'],
    denominator: ['batched', 'usPerLog'],
    atMost: 1.3,
  })),
  // Thread mode: the application's thread only hands entries over, the worker sends them.
  {
    name: 'batched-thread busy µs per entry / no-op',
    numerator: ['batched-thread', 'busyUsPerEntry'],
    denominator: ['noop', 'busyUsPerEntry'],
    atMost: 1.3,
  },
  // The same less the time each thread waited for a CPU: what the figure would be on cores of their own.
  {
    name: 'batched-thread busy µs less CPU wait / no-op',
    numerator: ['batched-thread', 'busyLessCpuWaitUsPerEntry'],
    denominator: ['noop', 'busyLessCpuWaitUsPerEntry'],
  },
  {
    name: 'batched busy µs per entry / no-op',
    numerator: ['batched', 'busyUsPerEntry'],
    denominator: ['noop', 'busyUsPerEntry'],
  },
  {
    name: 'batched-thread rate / batched rate',
    numerator: ['batched-thread', 'entriesPerSecond'],
    denominator: ['batched', 'entriesPerSecond'],
    atLeast: 0.8,
  },
  {
    name: 'thread-x10 peak RSS / batched-thread',
    numerator: ['thread-x10', 'peakRssMiB'],
    denominator: ['batched-thread', 'peakRssMiB'],
    atMost: 1.5,
  },
  // The OpenTelemetry SDK, batched, to the same receiver, against this transport's 'otlp'.
  {
    name: 'batched-otlp rate / OpenTelemetry SDK rate',
    numerator: ['batched-otlp', 'entriesPerSecond'],
    denominator: ['otel-sdk', 'entriesPerSecond'],
    atLeast: 1.3,
  },
  {
    name: 'batched-otlp µs per log() / OpenTelemetry SDK',
    numerator: ['batched-otlp', 'usPerLog'],
    denominator: ['otel-sdk', 'usPerLog'],
    atMost: 1,
  },
  {
    name: 'batched-otlp peak RSS / OpenTelemetry SDK',
    numerator: ['batched-otlp', 'peakRssMiB'],
    denominator: ['otel-sdk', 'peakRssMiB'],
    atMost: 1,
  },
  // 'otlp' in thread mode: the records are built and sent in the worker (the targets above are in-process).
  {
    name: 'otlp-thread rate / OpenTelemetry SDK rate',
    numerator: ['otlp-thread', 'entriesPerSecond'],
    denominator: ['otel-sdk', 'entriesPerSecond'],
  },
  {
    name: 'otlp-thread busy µs per entry / OpenTelemetry SDK',
    numerator: ['otlp-thread', 'busyUsPerEntry'],
    denominator: ['otel-sdk', 'busyUsPerEntry'],
  },
  // A one-entry-per-request run is short, and the first thousands of calls of a run cost more for every
  // transport: it is compared with the no-op's first calls of the same count.
  {
    name: 'one-per-request µs per log() / no-op, same calls',
    numerator: ['one-per-request', 'usPerLogFirst'],
    denominator: ['noop', 'usPerLogFirst'],
    atMost: 1.5,
  },
];

/**
 * Each comparison's ratio within every round (whose variants ran one right after another), and the median of
 * those: load on a shared machine changes from one minute to the next, and a ratio of medians taken over
 * different minutes would carry that change.
 */
function targets(rows: ReadonlyMap<VariantName, Row>): Target[] {
  return COMPARISONS.map(({ name, numerator, denominator, atLeast, atMost, difference }) => {
    const top = rows.get(numerator[0])?.rounds ?? [];
    const bottom = rows.get(denominator[0])?.rounds ?? [];
    const compare = difference === true ? subtract : ratio;
    const rounds = top.map((run, i) => compare(run[numerator[1]], bottom[i]?.[denominator[1]]));
    const value = median(rounds);
    if (atLeast === undefined && atMost === undefined) return { name, value, rounds, bound: undefined, met: undefined };
    const met =
      value === undefined ? undefined : atLeast !== undefined ? value >= atLeast : value <= (atMost as number);
    return { name, value, rounds, bound: atLeast !== undefined ? `>= ${atLeast}` : `<= ${atMost}`, met };
  });
}

function subtract(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

/** This transport's variants must deliver every entry, once, in order. */
function deliveryProblems(rows: ReadonlyMap<VariantName, Row>): string[] {
  const problems: string[] = [];
  for (const variant of OUR_VARIANTS) {
    const row = rows.get(variant);
    if (row === undefined) continue;
    row.rounds.forEach(({ received, stats }, i) => {
      const run = `${variant} (round ${i + 1})`;
      if (received.entries !== row.entries)
        problems.push(`${run}: the receiver got ${received.entries} of ${row.entries} entries`);
      if (!received.inOrder)
        problems.push(`${run}: out of order: ${received.firstDisorder ?? 'entries missing at the end'}`);
      if (received.unreadable > 0) problems.push(`${run}: ${received.unreadable} entries without a readable seq`);
      if (stats?.delivered !== row.entries)
        problems.push(`${run}: stats().delivered is ${stats?.delivered}, not ${row.entries}`);
    });
  }
  return problems;
}

/**
 * What the other variants failed to deliver, or delivered out of order (they do not promise it): reported, not
 * failed. The OpenTelemetry SDK's processor drops what does not fit its queue, for one.
 */
function peerDeliveryNotes(rows: ReadonlyMap<VariantName, Row>): string[] {
  const notes: string[] = [];
  for (const row of rows.values()) {
    if (row.variant === 'noop' || (OUR_VARIANTS as readonly VariantName[]).includes(row.variant)) continue;
    row.rounds.forEach(({ received }, i) => {
      if (received.entries !== row.entries || !received.inOrder)
        notes.push(
          `${row.variant} (round ${i + 1}): the receiver got ${received.entries} of ${row.entries} entries, ` +
            (received.inOrder ? 'in order' : `out of order (${received.firstDisorder ?? 'entries missing'})`),
        );
    });
  }
  return notes;
}

function printTable(
  rows: readonly Row[],
  results: readonly Target[],
  problems: readonly string[],
  notes: readonly string[],
  rounds: number,
  firstEntries: number,
): void {
  const m = machine();
  console.log(`winston-logstream benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}`);
  console.log(
    `receiver in its own process on 127.0.0.1; each variant in a fresh process (warm-up, full GC, measured run); medians of ${rounds} round(s)`,
  );
  console.log('');
  const header = [
    'variant',
    'entries',
    'µs/log()',
    `µs/log() first ${format(firstEntries, 0)}`,
    'entries/s',
    'elapsed ms',
    'client CPU µs/entry',
    'busy µs/entry',
    'of which CPU wait',
    'requests',
    'peak RSS MiB',
    'in order',
  ];
  const lines = rows.map(({ variant, entries, median: m, inOrder }) => [
    DESCRIPTIONS[variant],
    format(entries, 0),
    format(m.usPerLog, 2),
    format(m.usPerLogFirst, 2),
    format(m.entriesPerSecond, 0),
    format(m.elapsedMs, 0),
    format(m.cpuUsPerEntry, 0),
    format(m.busyUsPerEntry, 2),
    format(m.cpuWaitUsPerEntry, 2),
    variant === 'noop' ? '—' : format(m.requests, 0),
    format(m.peakRssMiB, 1),
    variant === 'noop' ? '—' : inOrder ? 'yes' : 'no',
  ]);
  printColumns(header, lines);
  console.log('');
  for (const t of results) {
    const verdict = t.value === undefined ? 'not measured' : t.met ? 'met' : 'NOT met';
    const target = t.bound === undefined ? '(for reference, no target)' : `(target ${t.bound}: ${verdict})`;
    const spread = t.rounds.length > 1 ? `  rounds ${t.rounds.map((r) => format(r, 2)).join(', ')}` : '';
    console.log(`${t.name.padEnd(50)} ${format(t.value, 2).padStart(6)}  ${target}${spread}`);
  }
  console.log('');
  if (problems.length === 0)
    console.log("delivery check: every entry arrived, once and in order, for this transport's variants");
  else for (const problem of problems) console.log(`delivery check FAILED: ${problem}`);
  for (const note of notes) console.log(`other variants' delivery: ${note}`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const receiver = await Receiver.start();
  const measured = new Map<VariantName, Measurement[]>();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const order = RUN_ORDER.filter((variant) => options.only.includes(variant));
      for (const variant of round % 2 === 1 ? order : order.reverse()) {
        const runs = measured.get(variant) ?? [];
        measured.set(variant, runs);
        runs.push(
          await measure(variant, `${variant}-${round}`, entriesFor(variant, options.entries), receiver, options),
        );
      }
    }
  } finally {
    receiver.stop();
  }
  const rows = new Map<VariantName, Row>();
  for (const variant of VARIANTS) {
    const runs = measured.get(variant);
    if (runs !== undefined) rows.set(variant, summarize(variant, entriesFor(variant, options.entries), runs));
  }
  const results = targets(rows);
  const problems = deliveryProblems(rows);
  const notes = peerDeliveryNotes(rows);
  if (options.json) {
    console.log(
      JSON.stringify({
        machine: machine(),
        rounds: options.rounds,
        variants: [...rows.values()],
        targets: results,
        problems,
        peerDelivery: notes,
      }),
    );
  } else
    printTable(
      [...rows.values()],
      results,
      problems,
      notes,
      options.rounds,
      entriesFor('one-per-request', options.entries),
    );
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
