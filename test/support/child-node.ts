/**
 * How tests start one of this repository's TypeScript files (a fixture, the test receiver, an example, the CLI) in
 * a child Node process: the one place that knows.
 *
 * Through tsx, every child paid about 0.3 s of CPU for the loader alone, and every worker thread it started from
 * source (the sidecar, the exit-drain worker) as much again, for a hooks thread of its own: most of the end-to-end
 * suites' time on a two-core machine. So children run the same files compiled ahead of time: src/, test/fixtures/,
 * test/support/ and examples/, each file compiled on its own by the esbuild that tsx compiles with, with tsx's
 * options (the Node version's target, names kept, tsconfig.json read), into a folder under .tmp/ named by a hash of
 * every input's content. Whatever changed in the sources makes a new folder: a child never runs a stale build.
 * (Compiled, the package starts its workers from the `.js` files beside it, as the published build does.)
 *
 * Under c8 (`npm run coverage`), children still run through tsx: c8 counts only `src/**\/*.ts`, which is the URL
 * a module loaded through tsx has, not that of a compiled copy.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folders whose files children import (a fixture imports src/ and test/support/). */
const SOURCE_DIRS = ['src', 'test/fixtures', 'test/support', 'examples'];
/** Inside the repository (so that `winston` and the others resolve from its node_modules), ignored by git. */
const BUILDS = join(ROOT, '.tmp', 'child-builds');

/** Under c8, children run through tsx (see above). */
const THROUGH_TSX = process.env.NODE_V8_COVERAGE !== undefined;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

let built: string | undefined;

/** The folder of the build of the sources as they are now: made the first time a process asks. */
function buildDir(): string {
  if (built !== undefined) return built;
  const requireFromTsx = createRequire(createRequire(import.meta.url).resolve('tsx'));
  const esbuild = requireFromTsx('esbuild') as typeof Esbuild;
  const files = SOURCE_DIRS.flatMap((dir) => tsFiles(join(ROOT, dir))).sort();
  const hash = createHash('sha256');
  hash.update(`${process.versions.node}\0${esbuild.version}\0`);
  for (const file of [...files, join(ROOT, 'tsconfig.json'), join(ROOT, 'package.json')]) {
    hash
      .update(`${relative(ROOT, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  const dir = join(BUILDS, hash.digest('hex').slice(0, 16));
  if (!existsSync(dir)) {
    mkdirSync(BUILDS, { recursive: true });
    // Built aside, then renamed into place: two test processes (mocha's jobs) may build at once; the first rename
    // wins, and a process never sees a half-written folder.
    const scratch = `${dir}.${process.pid}-${Date.now()}`;
    esbuild.buildSync({
      entryPoints: files,
      outbase: ROOT,
      outdir: scratch,
      format: 'esm',
      platform: 'node',
      // tsx's own options.
      target: `node${process.versions.node}`,
      keepNames: true,
      sourcemap: 'inline',
      logLevel: 'error',
    });
    // src/receiver/cli.ts reads the package's version from ../../package.json.
    writeFileSync(join(scratch, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    try {
      renameSync(scratch, dir);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    }
    pruneOldBuilds(dir);
  } else {
    // In use from now: a build made long ago is as new as its latest run (see pruneOldBuilds).
    const now = new Date();
    utimesSync(dir, now, now);
  }
  return (built = dir);
}

/**
 * Removes builds of older sources, once no run has started on them for an hour (a run still using one is long over):
 * a run that finds its build made touches it.
 */
function pruneOldBuilds(keep: string): void {
  for (const name of readdirSync(BUILDS)) {
    const path = join(BUILDS, name);
    try {
      if (path !== keep && Date.now() - statSync(path).mtimeMs > 3_600_000) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // Removed meanwhile by another process.
    }
  }
}

/**
 * How to run the repository's TypeScript file `file` (an absolute path) in a child: the module to run (for `spawn`
 * after `execArgv`, or `fork`'s module) and the Node flags it needs.
 */
export function childModule(file: string): { module: string; execArgv: string[] } {
  if (THROUGH_TSX) return { module: file, execArgv: ['--import', 'tsx'] };
  const path = relative(ROOT, file);
  if (path.startsWith('..') || !path.endsWith('.ts'))
    throw new Error(`not a TypeScript file of the repository: ${file}`);
  const module = join(buildDir(), `${path.slice(0, -3)}.js`);
  if (!existsSync(module)) throw new Error(`${path} is not in the children's build (see SOURCE_DIRS)`);
  return { module, execArgv: [] };
}

/** `process.execPath`'s arguments that run `file` with `nodeOptions` (Node flags) and `args`. */
export function nodeArgs(file: string, args: readonly string[] = [], nodeOptions: readonly string[] = []): string[] {
  const { module, execArgv } = childModule(file);
  return [...nodeOptions, ...execArgv, module, ...args];
}
