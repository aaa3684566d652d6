/**
 * The children's build (child-node.ts), in a copy of the repository's layout of its own: several test processes of
 * one checkout share its builds.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the children build (test/support/child-node.ts)', function () {
  this.timeout(60_000);
  let root: string;

  beforeEach(function () {
    root = mkdtempSync(join(tmpdir(), 'child-node-'));
    for (const dir of ['src', 'test/fixtures', 'test/support', 'examples'])
      mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(join(ROOT, 'test/support/child-node.ts'), join(root, 'test/support/child-node.ts'));
    copyFileSync(join(ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'));
    copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'src/a.ts'), 'export const a: number = 1;\n');
  });

  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  /** A test process of the copy: asks for the module of src/a.ts, and gives the build folder it is in. */
  function testProcess(): string {
    const module = pathToFileURL(join(root, 'test/support/child-node.ts')).href;
    const code = `const { childModule } = await import(${JSON.stringify(module)});
      console.log(childModule(${JSON.stringify(join(root, 'src/a.ts'))}).module);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_V8_COVERAGE: undefined },
    });
    expect(run.status, run.stderr).to.equal(0);
    return run.stdout.trim().split('/src/a.js')[0] as string;
  }

  it('a build made long ago and still in use by a run that started now is not pruned by a run of newer sources', function () {
    const old = testProcess();
    // Made two hours ago (the sources have not changed since).
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    // A long run (npm test) starts now, on that build...
    expect(testProcess()).to.equal(old);
    // ...and, meanwhile, a source is edited and one test file run.
    writeFileSync(join(root, 'src/a.ts'), 'export const a: number = 2;\n');
    const newer = testProcess();
    expect(newer).to.not.equal(old);
    expect(readdirSync(join(root, '.tmp/child-builds'))).to.include.members(
      [old, newer].map((dir) => dir.split('/').pop()),
    );
    expect(existsSync(join(old, 'src/a.js')), 'the running suite still needs its build').to.equal(true);
  });
});
