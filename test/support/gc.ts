/** Garbage collection on demand inside the test process, for tests that check what can be collected. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A context created after the flag is set has `gc` (the flag alone does not add it to the existing one).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Collects garbage until the objects only weakly held are gone. Yields to the event loop first each time: a
 * WeakRef keeps its target alive until the end of the job that made or read it.
 */
export async function collectGarbage(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

/** True once `ref`'s target has been collected, after {@link collectGarbage}. */
export async function isCollected(ref: WeakRef<object>): Promise<boolean> {
  await collectGarbage();
  return ref.deref() === undefined;
}
