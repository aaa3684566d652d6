import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Static `import … from` / `export … from`, side-effect `import '…'`, dynamic `import('…')` and `require('…')`. */
const SPECIFIER_PATTERNS = [
  /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for a relative one. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(name: string): boolean {
  return name.startsWith('node:') || builtinModules.includes(name);
}

describe('runtime dependencies (the package as `npm run build` makes it)', function () {
  /** Each package the built code imports, with the files that import it. */
  const imported = new Map<string, string[]>();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  const dependencies = Object.keys(pkg.dependencies ?? {});
  const peerDependencies = Object.keys(pkg.peerDependencies ?? {});

  /** A scratch output folder: the build is made here from the current source, so dist/ need not exist or be fresh. */
  let out: string | undefined;

  before(function () {
    this.timeout(120_000);
    out = mkdtempSync(join(tmpdir(), 'winston-logstream-build-'));
    // `npm run build` with another outDir: the same files as dist/, compiled from src/ as it is now.
    execFileSync(process.execPath, [TSC, '-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    for (const file of jsFiles(out)) {
      const source = readFileSync(file, 'utf8');
      for (const pattern of SPECIFIER_PATTERNS) {
        for (const match of source.matchAll(pattern)) {
          const name = packageOf(match[1] as string);
          if (name !== undefined) imported.set(name, [...(imported.get(name) ?? []), relative(out, file)]);
        }
      }
    }
  });

  after(function () {
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  it('imports every package listed in "dependencies"', function () {
    // A guard against a scan that finds nothing: the entry point imports winston-transport.
    expect([...imported.keys()]).to.include('winston-transport');
    const unused = dependencies.filter((name) => !imported.has(name));
    expect(unused, 'dependencies nothing in the built code imports').to.deep.equal([]);
  });

  it('imports nothing but Node builtins, "dependencies" and "peerDependencies"', function () {
    const undeclared = [...imported.keys()]
      .filter((name) => !isBuiltin(name) && !dependencies.includes(name) && !peerDependencies.includes(name))
      .map((name) => `${name} (${imported.get(name)?.join(', ')})`);
    expect(undeclared, 'packages imported by the built code but not declared').to.deep.equal([]);
  });
});
