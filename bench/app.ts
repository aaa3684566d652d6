/**
 * `npm run bench:app`: what logging costs an HTTP application. The application (bench/app-process.ts, a
 * node:http server logging one entry per request through winston) runs in its own process under a fixed load
 * from autocannon (in this process), once per variant; the log receiver (bench/receiver-process.ts) runs in a
 * third process and counts the entries. The variants:
 *
 *   none                  no logging at all
 *   noop                  winston → a transport that does nothing (the reference for the ratios)
 *   batched               this transport, batch: true
 *   batched-no-linger     this transport, batch: { maxDelayMs: 0 } (a request whenever the previous one is done)
 *   one-per-request       this transport, one entry per request (its default)
 *   winston-http-batched  winston's transports.Http, batch: true, batchCount 1000, batchInterval 1000 ms
 *   winston-http          winston's transports.Http, one entry per request
 *
 * Every run: a fresh application process, a warm-up (W requests, then until the receiver has their entries),
 * the measured load (D seconds, C connections), then `finish()` (this transport) or a wait for the receiver to
 * have every entry (winston's), at most the drain time. Each variant runs once per round, back to back, every
 * other round in reverse (see APP_RUN_ORDER). On a machine with few cores the load generator, the application
 * and the receiver compete for them: the ratios within a round are meant to cancel that out, not the figures.
 *
 *   npm run bench:app -- [--duration S] [--connections C] [--rounds R] [--warmup W] [--drain-ms MS]
 *                        [--rate R] [--records N] [--only a,b] [--cpu-prof DIR] [--json]
 *
 * --duration S     seconds of measured load per run (default 10)
 * --connections C  autocannon's connections (default 20)
 * --rounds R       rounds (default 3); ratios are medians of the ratios within each round
 * --warmup W       warm-up requests before the measured load (default 2,000; 0 for none)
 * --drain-ms MS    how long the entries may take to arrive after the load (default 10,000)
 * --rate R         hold the measured load at R requests/s in all (autocannon's overallRate) instead of as many
 *                  as the application serves: every variant then serves the same rate, and its CPU µs per
 *                  request compares at that rate (default 0: as many as it serves)
 * --records N      the application's own work: it answers every request with N order records, built and
 *                  serialized per request, as a list endpoint does (default 0: a two-field answer, which makes
 *                  the application far lighter than a real one, and logging's share of its CPU far larger)
 * --only a,b       run only these variants (ratios to no-op need `noop`)
 * --cpu-prof DIR   write a V8 CPU profile of every application process into DIR (node --cpu-prof; it costs CPU
 *                  too, so compare the profiles' shares, not the table's figures)
 * --json           print one JSON object instead of the table
 *
 * Targets: batched keeps at least 95% of the no-op's requests/s and loses no entry, and costs the application at
 * most the CPU per request that winston's batched Http transport costs (median of the per-round ratios); one entry
 * per request either keeps up, or prints its "falling behind" line within 5 s of starting to fall behind.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import {
  APP_RUN_ORDER,
  APP_VARIANTS,
  type AppCommand,
  type AppMessage,
  type AppResult,
  type AppVariant,
  type BacklogSample,
  OUR_APP_VARIANTS,
  WINSTON_BATCH_COUNT,
  WINSTON_BATCH_INTERVAL_MS,
} from './app-protocol.js';
import { childExecArgv, format, machine, median, printColumns, ratio, Receiver, script } from './common.js';
import { epochNow } from './protocol.js';

const DESCRIPTIONS: Record<AppVariant, string> = {
  none: 'no logging',
  noop: 'winston → no-op transport',
  batched: 'winston-logstream, batch: true',
  'batched-thread': 'winston-logstream, batch: true, thread: true',
  'batched-no-linger': 'winston-logstream, batch maxDelayMs 0',
  'one-per-request': 'winston-logstream, one entry per request',
  'winston-http-batched': `winston Http, batch ${WINSTON_BATCH_COUNT} / ${WINSTON_BATCH_INTERVAL_MS} ms`,
  'winston-http': 'winston Http, one entry per request',
};

/** Every diagnostic line of this transport starts with this. */
const TRANSPORT_LINE = 'winston-logstream: ';
/** How the transport's notice that it cannot keep up begins (its "caught up" line ends "after falling behind"). */
const FALLING_BEHIND = `${TRANSPORT_LINE}falling behind:`;
/** How the transport's notice that it has caught up begins. */
const CAUGHT_UP = `${TRANSPORT_LINE}caught up:`;
/** A backlog above this many entries counts as behind (well above what the connections keep in flight). */
const BEHIND_ENTRIES = 1000;
/** The one-entry-per-request target: the notice within this long of falling behind. */
const NOTICE_WITHIN_MS = 5000;
/** The batched target: at least this share of the no-op's requests/s. */
const BATCHED_MIN_RATE_RATIO = 0.95;
/** How often the receiver's count is checked while waiting for entries. */
const POLL_MS = 50;

interface Options {
  durationS: number;
  connections: number;
  rounds: number;
  warmupRequests: number;
  drainMs: number;
  /** Requests/s of the measured load; 0: as many as the application serves. */
  rate: number;
  /** Order records in every answer: the application's own work per request. */
  records: number;
  only: readonly AppVariant[];
  cpuProfDir: string | undefined;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    durationS: 10,
    connections: 20,
    rounds: 3,
    warmupRequests: 2000,
    drainMs: 10_000,
    rate: 0,
    records: 0,
    only: APP_VARIANTS,
    cpuProfDir: undefined,
    json: false,
  };
  const numbers = {
    '--duration': 'durationS',
    '--connections': 'connections',
    '--rounds': 'rounds',
    '--warmup': 'warmupRequests',
    '--drain-ms': 'drainMs',
    '--rate': 'rate',
    '--records': 'records',
  } as const;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--cpu-prof') options.cpuProfDir = value();
    else if (arg in numbers) {
      const key = numbers[arg as keyof typeof numbers];
      const n = Number(value());
      if (!(n >= 0) || (key !== 'durationS' && !Number.isSafeInteger(n))) throw new Error(`${arg}: bad value`);
      options[key] = n;
    } else if (arg === '--only') {
      const names = value().split(',');
      for (const name of names)
        if (!(APP_VARIANTS as readonly string[]).includes(name)) throw new Error(`unknown variant ${name}`);
      options.only = names as AppVariant[];
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (options.durationS <= 0 || options.connections < 1 || options.rounds < 1)
    throw new Error('--duration, --connections and --rounds must be positive');
  return options;
}

/** A stderr line of the application, with when it came. */
interface StderrLine {
  /** ms since the measured load began (negative: before it). */
  readonly atMs: number;
  readonly text: string;
}

/** The application process, seen from the coordinator: commands, their answers, and its stderr lines. */
class AppProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #answer: ((message: AppMessage) => void) | undefined;
  readonly #stderr: { at: number; text: string }[] = [];

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: AppMessage) => this.#answer?.(message));
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (text) => this.#stderr.push({ at: epochNow(), text }));
    // Exited, and its stderr read to the end, so that no line comes later. (Not 'close': it does not always come.)
    this.#exited = Promise.all([once(child, 'exit'), once(lines, 'close')]).then(() => {});
  }

  /**
   * Forks an application process: it loads its code (which takes seconds through tsx on a busy machine), then
   * waits for {@link start}. A round forks all of its processes at once, before its first run.
   */
  static fork(cpuProfDir: string | undefined): AppProcess {
    return new AppProcess(
      fork(script('./app-process.ts'), [], {
        execArgv: childExecArgv(cpuProfDir),
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      }),
    );
  }

  /** Makes the application's logger for `variant`, logging to `url`; resolves with the port it serves on. */
  async start(variant: AppVariant, url: string, records: number): Promise<number> {
    const ready = await this.call({ type: 'start', variant, url, records });
    if (ready.type !== 'ready') throw new Error(`the application answered ${ready.type} to start`);
    return ready.port;
  }

  /** Sends `command`; resolves with the answer. */
  call(command: AppCommand): Promise<AppMessage> {
    return new Promise((resolve, reject) => {
      const failed = (): void => reject(new Error(`the application exited during ${command.type}`));
      this.#child.once('exit', failed);
      this.#answer = (message) => {
        this.#child.off('exit', failed);
        resolve(message);
      };
      this.#child.send(command);
    });
  }

  /** Sends `command`; resolves with how many entries the application has logged so far. */
  async logged(command: 'logged' | 'load-start' | 'load-end'): Promise<number> {
    const answer = await this.call({ type: command });
    if (answer.type !== 'ack') throw new Error(`the application answered ${answer.type} to ${command}`);
    return answer.logged;
  }

  async finish(timeoutMs: number): Promise<AppResult> {
    const answer = await this.call({ type: 'finish', timeoutMs });
    if (answer.type !== 'result') throw new Error(`the application answered ${answer.type} to finish`);
    return answer.result;
  }

  /** Lets it exit; resolves when it has. */
  stop(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    return this.#exited;
  }

  /** Its stderr lines so far, timed from `origin` (ms since the epoch). */
  stderrSince(origin: number): StderrLine[] {
    return this.#stderr.map(({ at, text }) => ({ atMs: at - origin, text }));
  }
}

/** Resolves once the receiver has `entries` entries for `run`, or at `deadline` (ms since the epoch). */
async function receiverHas(receiver: Receiver, run: string, entries: number, deadline: number): Promise<void> {
  while ((await receiver.count(run)).entries < entries && epochNow() < deadline)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}

/** One run of one variant. */
interface Measurement {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Connection errors, timeouts and non-2xx answers autocannon saw. */
  readonly loadErrors: number;
  /** The application's CPU time during the measured load over the requests it served, in µs. */
  readonly cpuUsPerRequest: number;
  /** The part of it on the application's own thread (Linux only): without GC helper threads or a worker's. */
  readonly threadCpuUsPerRequest: number | undefined;
  /**
   * The receiver's CPU time during the measured load over the requests the application served, in µs: CPU the
   * log server takes from the cores the application shares with it here (none for the variants that send nothing).
   */
  readonly receiverCpuUsPerRequest: number;
  readonly peakRssMiB: number;
  /** Entries the application logged, warm-up included. */
  readonly logged: number;
  readonly received: number;
  /** logged − received. */
  readonly lost: number;
  readonly stats: Readonly<Record<string, number>> | undefined;
  /** This transport's requests per second during the measured load (its variants only). */
  readonly postsPerSecond: number | undefined;
  /** Entries delivered per request of this transport during the measured load (its variants only). */
  readonly entriesPerPost: number | undefined;
  /** The lines this transport printed, timed from the start of the measured load. */
  readonly transportLines: readonly StderrLine[];
  /** When the backlog went above BEHIND_ENTRIES for good (until the load ended), in ms since the load began. */
  readonly fellBehindAtMs: number | undefined;
  /** When the "falling behind" line in force when the load fell behind came (see noticeAt), in ms since it began. */
  readonly noticeAtMs: number | undefined;
  /** How long the measured load lasted, in ms. */
  readonly loadMs: number;
  /** When the application exited (no later line can come), in ms since the load began. */
  readonly endedAtMs: number;
}

/** When the backlog went above BEHIND_ENTRIES for the last time, if it was still above at the last sample. */
function fellBehindAt(backlog: readonly BacklogSample[]): number | undefined {
  let since: number | undefined;
  for (const { atMs, queued } of backlog) since = queued > BEHIND_ENTRIES ? (since ?? atMs) : undefined;
  return since;
}

/**
 * When the "falling behind" line in force when the load fell behind (at `behindAtMs`, or its start) came: one printed
 * earlier (in the warm-up, say) whose episode had not ended by then, or else the first one after.
 */
function noticeAt(lines: readonly StderrLine[], behindAtMs = 0): number | undefined {
  let open: number | undefined;
  for (const { atMs, text } of lines) {
    if (atMs >= behindAtMs && (open !== undefined || text.startsWith(FALLING_BEHIND))) return open ?? atMs;
    if (text.startsWith(FALLING_BEHIND)) open = atMs;
    else if (text.startsWith(CAUGHT_UP)) open = undefined;
  }
  return open;
}

/** The variants whose entries go to the receiver: the others cannot lose any. */
function sends(variant: AppVariant): boolean {
  return variant !== 'none' && variant !== 'noop';
}

/** One run of `variant` in `app`, a fresh application process. */
async function measure(
  variant: AppVariant,
  app: AppProcess,
  run: string,
  receiver: Receiver,
  options: Options,
): Promise<Measurement> {
  receiver.expect(run, Number.MAX_SAFE_INTEGER, () => {});
  const port = await app.start(variant, `http://127.0.0.1:${receiver.port}/${run}`, options.records);
  const url = `http://127.0.0.1:${port}/api/orders`;
  if (options.warmupRequests > 0) {
    await autocannon({ url, connections: options.connections, amount: options.warmupRequests });
    const warmupEntries = sends(variant) ? await app.logged('logged') : 0;
    await receiverHas(receiver, run, warmupEntries, epochNow() + options.drainMs);
  }
  const receiverCpuAtStart = (await receiver.count(run)).cpuMs;
  const loadStartedAt = epochNow();
  await app.logged('load-start');
  const load = await autocannon({
    url,
    connections: options.connections,
    duration: options.durationS,
    ...(options.rate > 0 ? { overallRate: options.rate } : {}),
  });
  await app.logged('load-end');
  const receiverCpuMs = (await receiver.count(run)).cpuMs - receiverCpuAtStart;
  const result = await app.finish(options.drainMs);
  // This transport's finish() has waited already: only its last responses may still be in the receiver's count.
  const sent = result.stats?.delivered ?? (sends(variant) ? result.logged : 0);
  await receiverHas(receiver, run, sent, epochNow() + options.drainMs);
  const received = (await receiver.count(run)).entries;
  await app.stop();
  const stderr = app.stderrSince(loadStartedAt);
  const fellBehindAtMs = fellBehindAt(result.backlog);
  return {
    requestsPerSecond: load.requests.total / load.duration,
    p99Ms: load.latency.p99,
    requests: load.requests.total,
    loadMs: load.duration * 1000,
    loadErrors: load.errors + load.non2xx,
    cpuUsPerRequest: result.loadCpuUs / load.requests.total,
    threadCpuUsPerRequest: ratio(result.loadThreadCpuUs, load.requests.total),
    receiverCpuUsPerRequest: (receiverCpuMs * 1000) / load.requests.total,
    peakRssMiB: result.peakRssBytes / 2 ** 20,
    logged: result.logged,
    received,
    lost: sends(variant) ? result.logged - received : 0,
    stats: result.stats,
    postsPerSecond: ratio(result.loadSends?.requests, load.duration),
    entriesPerPost: ratio(result.loadSends?.delivered, result.loadSends?.requests),
    transportLines: stderr.filter(({ text }) => text.startsWith(TRANSPORT_LINE)),
    fellBehindAtMs,
    noticeAtMs: noticeAt(stderr, fellBehindAtMs),
    endedAtMs: epochNow() - loadStartedAt,
  };
}

type Figure =
  | 'requestsPerSecond'
  | 'p99Ms'
  | 'cpuUsPerRequest'
  | 'threadCpuUsPerRequest'
  | 'receiverCpuUsPerRequest'
  | 'peakRssMiB'
  | 'postsPerSecond'
  | 'entriesPerPost';

/** One variant over every round. */
interface Row {
  readonly variant: AppVariant;
  readonly description: string;
  /** Each figure's median over the rounds. */
  readonly median: Readonly<Record<Figure, number | undefined>>;
  /** Requests/s and p99 latency over the no-op's in the same round: their median, and every round's. */
  readonly rateRatio: number | undefined;
  readonly p99Ratio: number | undefined;
  readonly rateRatios: readonly (number | undefined)[];
  readonly p99Ratios: readonly (number | undefined)[];
  readonly lost: number;
  readonly logged: number;
  readonly rounds: readonly Measurement[];
}

function summarize(variant: AppVariant, rounds: readonly Measurement[], noop: readonly Measurement[] | undefined): Row {
  const figures: Figure[] = [
    'requestsPerSecond',
    'p99Ms',
    'cpuUsPerRequest',
    'threadCpuUsPerRequest',
    'receiverCpuUsPerRequest',
    'peakRssMiB',
    'postsPerSecond',
    'entriesPerPost',
  ];
  const perRound = (figure: Figure): (number | undefined)[] =>
    rounds.map((run, i) => ratio(run[figure], noop?.[i]?.[figure]));
  const rateRatios = perRound('requestsPerSecond');
  const p99Ratios = perRound('p99Ms');
  return {
    variant,
    description: DESCRIPTIONS[variant],
    median: Object.fromEntries(figures.map((f) => [f, median(rounds.map((r) => r[f]))])) as Record<
      Figure,
      number | undefined
    >,
    rateRatio: median(rateRatios),
    p99Ratio: median(p99Ratios),
    rateRatios,
    p99Ratios,
    lost: rounds.reduce((sum, r) => sum + r.lost, 0),
    logged: rounds.reduce((sum, r) => sum + r.logged, 0),
    rounds,
  };
}

/** A target's verdict: met, not met, or undecided (not measured, or the run too short to tell). */
interface Verdict {
  readonly name: string;
  readonly met: boolean | undefined;
  readonly detail: string;
}

function batchedVerdict(variant: AppVariant, row: Row | undefined): Verdict {
  const name = `${variant}: requests/s >= ${BATCHED_MIN_RATE_RATIO} × no-op's, no entry lost`;
  if (row === undefined || row.rateRatio === undefined) return { name, met: undefined, detail: 'not measured' };
  const met = row.rateRatio >= BATCHED_MIN_RATE_RATIO && row.lost === 0;
  const rounds = row.rateRatios.map((r) => format(r, 3)).join(', ');
  return { name, met, detail: `ratio ${format(row.rateRatio, 3)} (rounds ${rounds}), lost ${row.lost}` };
}

/**
 * Per round, the application's CPU per request with `variant` over that with winston's batched Http transport: at
 * most 1 (compare at a fixed `--rate`, where both serve the same requests).
 */
function cpuVerdict(variant: AppVariant, row: Row | undefined, winston: Row | undefined): Verdict {
  const name = `${variant}: CPU per request <= winston Http batched's`;
  if (row === undefined || winston === undefined) return { name, met: undefined, detail: 'not measured' };
  const ratios = row.rounds.map((run, i) => ratio(run.cpuUsPerRequest, winston.rounds[i]?.cpuUsPerRequest));
  const middle = median(ratios);
  if (middle === undefined) return { name, met: undefined, detail: 'not measured' };
  const rounds = ratios.map((r) => format(r, 2)).join(', ');
  return { name, met: middle <= 1, detail: `ratio ${format(middle, 2)} (rounds ${rounds})` };
}

/** Per round: kept up (never behind, nothing lost), or the notice came within NOTICE_WITHIN_MS of falling behind. */
function onePerRequestRound(run: Measurement): { met: boolean | undefined; detail: string } {
  // Entries lost with no lasting backlog seen during the load: behind by its end at the latest.
  const behindAt = run.fellBehindAtMs ?? (run.lost > 0 ? run.loadMs : undefined);
  if (behindAt === undefined) return { met: true, detail: 'kept up' };
  const behind = `behind from ${format(behindAt / 1000, 1)} s`;
  if (run.noticeAtMs !== undefined) {
    const met = run.noticeAtMs <= behindAt + NOTICE_WITHIN_MS;
    return { met, detail: `${behind}, notice at ${format(run.noticeAtMs / 1000, 1)} s` };
  }
  if (run.endedAtMs < behindAt + NOTICE_WITHIN_MS) return { met: undefined, detail: `${behind}, run too short` };
  return { met: false, detail: `${behind}, no notice` };
}

function onePerRequestVerdict(row: Row | undefined): Verdict {
  const name = `one per request: keeps up, or notice within ${NOTICE_WITHIN_MS / 1000} s of falling behind`;
  if (row === undefined) return { name, met: undefined, detail: 'not measured' };
  const rounds = row.rounds.map(onePerRequestRound);
  const met = rounds.some((r) => r.met === false) ? false : rounds.every((r) => r.met === true) ? true : undefined;
  return { name, met, detail: rounds.map((r) => r.detail).join('; ') };
}

function seconds(ms: readonly (number | undefined)[]): string {
  const known = ms.filter((v) => v !== undefined).length;
  const value = format(ratio(median(ms), 1000), 1);
  return known === 0 || known === ms.length ? value : `${value} (${known}/${ms.length})`;
}

function printTable(rows: readonly Row[], verdicts: readonly Verdict[], options: Options): void {
  const m = machine();
  console.log(`winston-logstream application benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}`);
  console.log(
    `node:http application, autocannon (in the coordinator) and receiver in 3 processes sharing the cores; ` +
      `${options.connections} connections${options.rate > 0 ? ` at ${options.rate} requests/s` : ''}, ` +
      `${options.records > 0 ? `${options.records} order records per answer, ` : ''}` +
      `${options.durationS} s per run after ${options.warmupRequests} warm-up ` +
      `requests; medians of ${options.rounds} round(s), ratios to the no-op within each round`,
  );
  console.log('');
  const header = [
    'variant',
    'req/s',
    'req/s ÷ no-op',
    'p99 ms',
    'p99 ÷ no-op',
    'CPU µs/req',
    'of which app thread',
    'receiver CPU µs/req',
    'peak RSS MiB',
    'lost / logged',
    'POSTs/s',
    'entries/POST',
    'behind from s',
    'notice at s',
  ];
  const lines = rows.map((row) => [
    row.description,
    format(row.median.requestsPerSecond, 0),
    format(row.rateRatio, 3),
    format(row.median.p99Ms, 1),
    format(row.p99Ratio, 2),
    format(row.median.cpuUsPerRequest, 1),
    format(row.median.threadCpuUsPerRequest, 1),
    sends(row.variant) ? format(row.median.receiverCpuUsPerRequest, 1) : '—',
    format(row.median.peakRssMiB, 1),
    sends(row.variant) ? `${format(row.lost, 0)} / ${format(row.logged, 0)}` : '—',
    format(row.median.postsPerSecond, 1),
    format(row.median.entriesPerPost, 0),
    OUR_APP_VARIANTS.includes(row.variant) ? seconds(row.rounds.map((r) => r.fellBehindAtMs)) : '—',
    seconds(row.rounds.map((r) => r.noticeAtMs)),
  ]);
  printColumns(header, lines);
  console.log('');
  for (const v of verdicts) {
    const verdict = v.met === undefined ? 'undecided' : v.met ? 'met' : 'NOT met';
    console.log(`${v.name}: ${verdict} (${v.detail})`);
  }
  for (const row of rows) {
    row.rounds.forEach((run, i) => {
      for (const line of run.transportLines.slice(0, 5))
        console.log(`  ${row.variant} round ${i + 1}, ${format(line.atMs / 1000, 1)} s: ${line.text}`);
    });
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const order = APP_RUN_ORDER.filter((variant) => options.only.includes(variant));
  const forkRound = (): AppProcess[] => order.map(() => AppProcess.fork(options.cpuProfDir));
  let apps = forkRound(); // the first round's processes load while the receiver warms up
  const receiver = await Receiver.start();
  const measured = new Map<AppVariant, Measurement[]>();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      if (round > 1) apps = forkRound();
      const roundOrder = round % 2 === 1 ? order : [...order].reverse();
      for (const [i, variant] of roundOrder.entries()) {
        const runs = measured.get(variant) ?? [];
        measured.set(variant, runs);
        runs.push(await measure(variant, apps[i] as AppProcess, `app-${variant}-${round}`, receiver, options));
      }
    }
  } finally {
    receiver.stop();
    await Promise.all(apps.map((app) => app.stop()));
  }
  const rows = APP_VARIANTS.flatMap((variant) => {
    const runs = measured.get(variant);
    return runs === undefined ? [] : [summarize(variant, runs, measured.get('noop'))];
  });
  const byName = new Map(rows.map((row) => [row.variant, row]));
  const verdicts = [
    batchedVerdict('batched', byName.get('batched')),
    batchedVerdict('batched-thread', byName.get('batched-thread')),
    cpuVerdict('batched', byName.get('batched'), byName.get('winston-http-batched')),
    onePerRequestVerdict(byName.get('one-per-request')),
  ];
  if (options.json) console.log(JSON.stringify({ machine: machine(), options, variants: rows, targets: verdicts }));
  else printTable(rows, verdicts, options);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
