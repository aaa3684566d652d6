/**
 * The benchmark's receiver: a minimal node:http log server on 127.0.0.1, in its own process, started by
 * bench/bench.ts. Each run logs to its own path (`/<run>`), or to sub-paths of it (`/<run>/<stream>`, one per
 * transport when a run has several). For every request it finds the entries' `seq` fields (one
 * regular-expression pass over the body: parsing every entry would make the receiver, which shares the machine's
 * two cores, the busiest process) and checks that they arrive as 0, 1, 2, … on each path; an NDJSON line without
 * one, or a JSON body without any, counts as unreadable. It answers every request `200 {}` as soon as its body
 * is in, before counting it, and reports counts over IPC. It warms itself up before it reports ready.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { epochNow, type ReceiverCommand, type ReceiverMessage, type RunCount } from './protocol.js';

interface RunState {
  expected: number;
  entries: number;
  requests: number;
  /** The `seq` expected next on each path of the run (`''` for the run's own path, else the stream's name). */
  nextSeq: Map<string, number>;
  firstDisorder: string | undefined;
  unreadable: number;
  completedAt: number | undefined;
  cpuAtStart: number;
  cpuMs: number;
}

const runs = new Map<string, RunState>();

function send(message: ReceiverMessage): void {
  process.send?.(message);
}

function cpuMsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A request's run and stream: `/<run>` or `/<run>/<stream>`. */
function parsePath(path: string): { run: string; stream: string } {
  const slash = path.indexOf('/', 1);
  return slash === -1
    ? { run: path.slice(1), stream: '' }
    : { run: path.slice(1, slash), stream: path.slice(slash + 1) };
}

/**
 * Every entry's `seq` field, in body order: one regular-expression pass instead of parsing every entry. As JSON
 * (`'http'`, Elasticsearch documents), escaped in a JSON string (a Loki line), or an OTLP attribute (an int64 as
 * a string, as this transport writes it, or as a number, as the OpenTelemetry JS SDK does).
 */
const SEQ_FIELD = /"seq":(\d+)|\\"seq\\":(\d+)|"key":"seq","value":\{"intValue":"?(\d+)"?\}/g;
/** An Elasticsearch `_bulk` action line, which carries no entry of its own. */
const BULK_ACTION = /^\{"create":/gm;

function countSeq(run: RunState, stream: string, seq: number): void {
  run.entries++;
  const expected = run.nextSeq.get(stream) ?? 0;
  if (seq !== expected && run.firstDisorder === undefined) {
    run.firstDisorder = `seq ${seq} arrived when ${expected} was expected${stream === '' ? '' : ` on /${stream}`}`;
  }
  run.nextSeq.set(stream, seq + 1);
}

/** Lines with content, for NDJSON: each must carry a `seq`. */
function countLines(body: string): number {
  let lines = 0;
  for (let start = 0; start < body.length;) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    if (end > start) lines++;
    start = end + 1;
  }
  return lines;
}

function countBody(run: RunState, stream: string, contentType: string, body: string): void {
  let found = 0;
  for (const match of body.matchAll(SEQ_FIELD)) {
    countSeq(run, stream, Number(match[1] ?? match[2] ?? match[3]));
    found++;
  }
  if (contentType.startsWith('application/x-ndjson')) {
    run.unreadable += countLines(body) - found - (body.match(BULK_ACTION)?.length ?? 0);
  } else if (found === 0) run.unreadable++;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    // Answered before counting: the counting is the benchmark's instrumentation, not the server being measured.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const { run: name, stream } = parsePath(req.url ?? '/');
    const run = runs.get(name);
    if (run !== undefined) {
      run.requests++;
      countBody(run, stream, req.headers['content-type'] ?? '', Buffer.concat(chunks).toString('utf8'));
      if (run.completedAt === undefined && run.entries >= run.expected) {
        run.completedAt = epochNow();
        run.cpuMs = cpuMsNow() - run.cpuAtStart;
        send({ type: 'complete', run: name, at: run.completedAt });
      }
    }
  });
});

function newRun(expected: number): RunState {
  return {
    expected,
    entries: 0,
    requests: 0,
    nextSeq: new Map(),
    firstDisorder: undefined,
    unreadable: 0,
    completedAt: undefined,
    cpuAtStart: cpuMsNow(),
    cpuMs: 0,
  };
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

process.on('message', (command: ReceiverCommand) => {
  switch (command.type) {
    case 'expect':
      runs.set(command.run, newRun(command.entries));
      return;
    case 'count': {
      const run = runs.get(command.run);
      const count: RunCount = {
        entries: run?.entries ?? 0,
        requests: run?.requests ?? 0,
        inOrder: run !== undefined && run.firstDisorder === undefined && sum(run.nextSeq.values()) === run.entries,
        firstDisorder: run?.firstDisorder,
        unreadable: run?.unreadable ?? 0,
        completedAt: run?.completedAt,
        cpuMs: run === undefined ? 0 : run.completedAt === undefined ? cpuMsNow() - run.cpuAtStart : run.cpuMs,
      };
      send({ type: 'count', run: command.run, count });
      return;
    }
  }
});
process.on('disconnect', () => process.exit(0));

/**
 * What the receiver sends itself before it reports ready: without it, the first variant to run would meet code
 * that V8 has not optimized yet (a first round's one-entry-per-request ratio came out about 10% lower).
 */
const WARM_UP = { run: 'receiver-warm-up', singleEntryRequests: 2000, batchRequests: 50, entriesPerBatch: 1000 };

function post(agent: http.Agent, port: number, contentType: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path: `/${WARM_UP.run}`,
        method: 'POST',
        headers: { 'content-type': contentType },
      },
      (response) => response.resume().on('end', resolve),
    );
    request.on('error', reject).end(body);
  });
}

/** Sends the receiver's own warm-up requests, counted as a run of their own that never completes, then forgets it. */
async function warmUp(port: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true });
  runs.set(WARM_UP.run, newRun(Infinity));
  let seq = 0;
  const entry = (): string => JSON.stringify({ level: 'info', message: 'warm-up', seq: seq++ });
  for (let i = 0; i < WARM_UP.singleEntryRequests; i++) await post(agent, port, 'application/json', entry());
  for (let i = 0; i < WARM_UP.batchRequests; i++) {
    const lines = Array.from({ length: WARM_UP.entriesPerBatch }, entry);
    await post(agent, port, 'application/x-ndjson', `${lines.join('\n')}\n`);
  }
  runs.delete(WARM_UP.run);
  agent.destroy();
}

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  void warmUp(port).then(() => send({ type: 'ready', port }));
});
