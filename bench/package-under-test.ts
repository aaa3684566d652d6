/**
 * The package as its users run it: the build in `dist/` (`npm run bench` and `npm run bench:app` make it first),
 * not the TypeScript sources through tsx. It matters most for memory and start-up: from source, every module is
 * compiled as it loads, and so is every module of thread mode's worker.
 * @module
 */
import type * as Package from '../src/index.js';

const BUILT = new URL('../dist/index.js', import.meta.url);

async function loadBuilt(): Promise<typeof Package> {
  try {
    return (await import(BUILT.href)) as typeof Package;
  } catch (error) {
    throw new Error(`could not load the build (${BUILT.pathname}): run \`npm run build\` first`, { cause: error });
  }
}

export const { LogstreamTransport } = await loadBuilt();
export type LogstreamTransport = Package.LogstreamTransport;
