/**
 * Captures what the code under test writes to stderr, so tests can assert the exact diagnostic lines.
 * Always {@link StderrCapture.restore} it (in `afterEach` or `finally`).
 */
export class StderrCapture {
  // Put back as process.stderr.write in restore(), so it is called on process.stderr again.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  readonly #original = process.stderr.write;
  #text = '';

  private constructor() {
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      this.#text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof process.stderr.write;
  }

  /** Starts capturing: nothing reaches the real stderr until {@link restore}. */
  static start(): StderrCapture {
    return new StderrCapture();
  }

  /** Runs `task` while capturing; resolves with its result and the lines it printed, the real stderr put back. */
  static async around<T>(task: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
    const capture = new StderrCapture();
    try {
      const result = await task();
      return { result, lines: capture.lines() };
    } finally {
      capture.restore();
    }
  }

  /** The complete lines written so far. */
  lines(): string[] {
    return this.#text.split('\n').slice(0, -1);
  }

  /** Puts the real stderr back. */
  restore(): void {
    process.stderr.write = this.#original;
  }
}
