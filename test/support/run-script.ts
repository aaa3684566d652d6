/**
 * Runs a fixture script in its own Node process (compiled from the current TypeScript: see child-node.ts) to its end and collects what it did: the
 * one way tests run a child script. Each fixture takes one JSON argument and reports on stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeArgs } from './child-node.js';

export interface ScriptRun {
  /** The exit code; `null` when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr split in lines, without the trailing empty one: `[]` when the script wrote nothing there. */
  stderrLines: string[];
  /** Date.now() when the process exited, as the parent saw it. */
  exitedAt: number;
}

/**
 * Runs `test/fixtures/<name>` with `JSON.stringify(args)` as its one argument; kills it (and fails) when it has not
 * exited after `killAfterMs`. The default leaves room for a loaded machine, where tsx alone can take 2–5 s to start;
 * a test that runs a script needs a mocha timeout above it (the suite's default, 40 s, is).
 * @param nodeOptions - extra Node flags, for example `--max-old-space-size=40`.
 */
export function runScript(
  name: string,
  args: unknown,
  killAfterMs = 30_000,
  nodeOptions: readonly string[] = [],
): Promise<ScriptRun> {
  const script = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, nodeArgs(script, [JSON.stringify(args)], nodeOptions), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    let exitedAt = 0;
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not exit within ${killAfterMs} ms; stderr: ${stderr}`));
    }, killAfterMs);
    child.once('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.once('exit', () => (exitedAt = Date.now()));
    // 'close' comes after 'exit', once the output streams are read to the end.
    child.once('close', (code) => {
      clearTimeout(killer);
      const stderrLines = stderr === '' ? [] : stderr.replace(/\n$/, '').split('\n');
      resolve({ code, stdout, stderr, stderrLines, exitedAt });
    });
  });
}

/** The last stdout line of a run, parsed as JSON; throws with the run's output when it is not JSON. */
export function lastJsonLine<T>(run: ScriptRun): T {
  const line = run.stdout.trimEnd().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`unreadable stdout (exit code ${run.code}): ${run.stdout}; stderr: ${run.stderr}`);
  }
}
