import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childModule } from './child-node.js';
import type { FaultRule, ReceivedRequest, ReceiverCommand, ReceiverReply } from './receiver-protocol.js';

export type { FaultRule, ReceivedRequest } from './receiver-protocol.js';

const PROCESS_SCRIPT = fileURLToPath(new URL('./receiver-process.ts', import.meta.url));

/** Parses a request body the way a log server would: NDJSON, a JSON array, or one JSON value. */
export function parseEntries(request: Pick<ReceivedRequest, 'body' | 'headers'>): unknown[] {
  const type = String(request.headers['content-type'] ?? '');
  if (type.includes('ndjson')) {
    return request.body
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as unknown);
  }
  const parsed = JSON.parse(request.body) as unknown;
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** A log server in a child process on 127.0.0.1, which records what it gets and fails on command. */
export class TestReceiver {
  readonly #child: ChildProcess;
  #port: number;
  #nextId = 1;
  readonly #pending = new Map<number, (reply: ReceiverReply) => void>();

  readonly #protocol: 'http' | 'https';

  private constructor(child: ChildProcess, port: number, protocol: 'http' | 'https') {
    this.#child = child;
    this.#port = port;
    this.#protocol = protocol;
    child.on('message', (message: { id: number; reply: ReceiverReply }) => {
      this.#pending.get(message.id)?.(message.reply);
      this.#pending.delete(message.id);
    });
  }

  /**
   * Starts a receiver process; resolves once it listens.
   * @param options.tls - PEM `key` and `cert`: serve HTTPS with them.
   */
  static start(options: { tls?: { key: string; cert: string } } = {}): Promise<TestReceiver> {
    const { tls } = options;
    const env =
      tls === undefined ? process.env : { ...process.env, RECEIVER_TLS_KEY: tls.key, RECEIVER_TLS_CERT: tls.cert };
    const { module, execArgv } = childModule(PROCESS_SCRIPT);
    const child = fork(module, [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`test receiver exited with ${code}`)));
      child.once('message', (message: { reply: ReceiverReply }) => {
        child.removeAllListeners('exit');
        resolve(new TestReceiver(child, message.reply.port as number, tls === undefined ? 'http' : 'https'));
      });
    });
  }

  /** The port it listens on (the same across stop/start). */
  get port(): number {
    return this.#port;
  }

  /** A URL on this receiver. */
  url(path = '/logs'): string {
    return `${this.#protocol}://127.0.0.1:${this.#port}${path}`;
  }

  #send(command: ReceiverCommand): Promise<ReceiverReply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#child.send({ id, command });
    });
  }

  /** Every request so far, in arrival order. */
  async requests(): Promise<ReceivedRequest[]> {
    return (await this.#send({ cmd: 'requests' })).requests ?? [];
  }

  /** Requests answered 200. */
  async accepted(): Promise<ReceivedRequest[]> {
    return (await this.requests()).filter((request) => request.outcome === 'accepted');
  }

  /** Entries of the accepted requests, in arrival order. */
  async entries(): Promise<Record<string, unknown>[]> {
    return (await this.accepted()).flatMap((request) => parseEntries(request) as Record<string, unknown>[]);
  }

  /** Forgets requests and rules. */
  async reset(): Promise<void> {
    await this.#send({ cmd: 'reset' });
  }

  /** Replaces the fault rules. */
  async faults(rules: FaultRule[]): Promise<void> {
    await this.#send({ cmd: 'faults', rules });
  }

  /** Answers 413 to bodies over `bytes` (on the wire). */
  async maxBody(bytes: number): Promise<void> {
    await this.#send({ cmd: 'max-body', bytes });
  }

  /** Stops listening and drops every connection. */
  async stopListening(): Promise<void> {
    await this.#send({ cmd: 'stop' });
  }

  /** Listens again on the same port. */
  async startListening(): Promise<void> {
    await this.#send({ cmd: 'start' });
  }

  /** Polls until `predicate` holds for the requests, or throws after `timeoutMs`. */
  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const requests = await this.requests();
      if (predicate(requests)) return requests;
      if (Date.now() > deadline) throw new Error(`test receiver: condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Ends the receiver process. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.disconnect();
    await exited;
  }
}

/**
 * Mocha hooks for the enclosing `describe`: starts one receiver process before its tests, resets it before each
 * test and closes it after them all.
 * @param use - receives the started receiver (assign it to the block's variable).
 */
export function useTestReceiver(use: (receiver: TestReceiver) => void): void {
  let receiver: TestReceiver | undefined;
  before(async function () {
    receiver = await TestReceiver.start();
    use(receiver);
  });
  after(async function () {
    await receiver?.close();
  });
  beforeEach(async function () {
    await receiver?.reset();
  });
}
