/**
 * For child scripts: start the package's workers before logging, as a long-running application has them started
 * long before its exit or its failures. From source (through tsx) a worker takes most of a second to start.
 */

/**
 * Resolves when `ready` does, keeping the process alive meanwhile: the workers are unref'd, so a script waiting
 * for nothing else would otherwise end before they are up.
 */
export async function whileStarting(ready: Promise<unknown>): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    await ready;
  } finally {
    clearInterval(keepAlive);
  }
}
