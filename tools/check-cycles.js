// Import-cycle check of src/ (`npm run lint:cycles`, part of `npm run lint`): no module of src/ may reach itself
// through its relative imports. It reads the imports with the TypeScript 6 parser of this workspace (see
// package.json here), so it tells `import type` (and imports whose every name is `type`) from imports that stay in
// the JavaScript, to name each import's kind in the message. Both kinds count, and there is no exception: a cycle
// of type-only imports does nothing at run time, but it still ties the modules together.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The source file a relative specifier names (`./x.js` → `./x.ts`, `./dir` → `./dir/index.ts`), if in src/. */
function resolveSpecifier(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.(m|c)?js$/, '.$1ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((path) => path.startsWith(SRC) && path.endsWith('.ts') && existsSync(path));
}

/** Each relative import of a file, with whether it survives compilation (`runtime`) or is type-only. */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (specifier, runtime) => {
    if (specifier === undefined || !ts.isStringLiteral(specifier)) return;
    const target = resolveSpecifier(file, specifier.text);
    if (target !== undefined) found.push({ target, runtime });
  };
  const allTypeOnly = (elements) => elements.length > 0 && elements.every((element) => element.isTypeOnly);
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            allTypeOnly(clause.namedBindings.elements)));
      add(node.moduleSpecifier, !typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          allTypeOnly(node.exportClause.elements));
      add(node.moduleSpecifier, !typeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, false); // `import('./x.js').T` in a type
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const rel = (path) => relative(ROOT, path).split('\\').join('/');

/** edges: Map<module, Map<imported module, runtime?>>. */
const edges = new Map();
for (const file of sourceFiles(SRC)) {
  const targets = new Map();
  for (const { target, runtime } of importsOf(file)) {
    targets.set(rel(target), (targets.get(rel(target)) ?? false) || runtime);
  }
  edges.set(rel(file), targets);
}

const problems = [];

/** Strongly connected components (Tarjan) of the import graph: each one with 2+ modules is a cycle. */
function cycles() {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const connect = (node) => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!indices.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indices.get(next)));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || edges.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of [...edges.keys()].sort()) if (!indices.has(node)) connect(node);
  return found;
}

/** One path round a component, with each import's kind, for the message. */
function describe(component) {
  const members = new Set(component);
  const start = component[0];
  const path = [start];
  const seen = new Set([start]);
  const walk = (node) => {
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!members.has(next)) continue;
      if (next === start) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      path.push(next);
      if (walk(next)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return [...path, start]
    .map((node, i, all) => (i === 0 ? node : `${edges.get(all[i - 1]).get(node) ? '→' : '→ (type)'} ${node}`))
    .join(' ');
}

for (const component of cycles()) problems.push(`import cycle among ${component.join(', ')}: ${describe(component)}`);

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-cycles: ${problem}`);
  console.error('check-cycles: move what both sides need into a module of its own (types into a types module)');
  process.exit(1);
}
const count = [...edges.values()].reduce((sum, targets) => sum + targets.size, 0);
console.log(`check-cycles: no import cycle among ${edges.size} modules of src/ (${count} imports)`);
