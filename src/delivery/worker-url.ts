/**
 * Starting the package's worker threads, from the build or from source.
 * @module
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * This module runs from its TypeScript source (tests, under tsx) rather than from the build. (A CommonJS bundle
 * leaves `import.meta` empty: then no worker can be found, and {@link startWorker} throws.)
 */
const FROM_SOURCE = typeof import.meta.url === 'string' && import.meta.url.endsWith('.ts');

/**
 * Starts the worker module `name` of this directory: `<name>.js` next to the compiled module, or, when running
 * from source, `<name>.ts` through tsx. On Node 20 a worker inherits neither tsx's loader nor a working
 * `--import tsx` in `execArgv` (the entry module is loaded before the hook is in place), so from source the
 * worker is a two-line bootstrap that registers tsx's ESM hooks and then imports the module.
 *
 * `execArgv` is always empty: the application's flags (`--cpu-prof`, `--inspect`, loaders) are not inherited.
 * @throws when the worker cannot be started (its file cannot be named: a bundle that moved this module).
 */
export function startWorker(name: string, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  if (!FROM_SOURCE) return new Worker(new URL(`./${name}.js`, import.meta.url), { ...options, execArgv: [] });
  const module = new URL(`./${name}.ts`, import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsx)})` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); });`;
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] });
}
