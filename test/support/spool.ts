import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spool, type SpoolOptions } from '../../src/delivery/spool/index.js';
import type { SpooledRecord } from '../../src/delivery/spool/record-format.js';
import { nodeArgs } from './child-node.js';

const CHILD = fileURLToPath(new URL('../fixtures/spool-child.ts', import.meta.url));

/** A fresh directory under the OS temp dir; the spool directory is `spool` inside it (so the spool creates it). */
export function tempSpoolDir(): { root: string; dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(crashTestBase(), 'logstream-spool-'));
  return { root, dir: join(root, 'spool'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Opens a spool that must open, and reads every record it recovered. */
export function openSpool(options: SpoolOptions): { spool: Spool; recovered: SpooledRecord[]; torn: number } {
  const result = Spool.open(options);
  if (result.kind !== 'opened') throw new Error(`spool did not open: ${result.message}`);
  const { spool, torn } = result;
  const recovered: SpooledRecord[] = [];
  while (spool.unread > 0) recovered.push(...spool.readRecovered(7, 4096));
  if (recovered.length !== result.recovered) throw new Error(`${result.recovered} recovered, ${recovered.length} read`);
  return { spool, recovered, torn };
}

/** Appends `lines` (ASCII or not), each accepted at `at`. */
export function appendAll(spool: Spool, lines: readonly string[], at = 1_000): void {
  for (const line of lines) {
    if (!spool.append(line, Buffer.byteLength(line), at)) throw new Error(`append refused: ${line}`);
  }
}

/** The segment files in `dir`, oldest first. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.spool'))
    .sort()
    .map((name) => join(dir, name));
}

/** Lines of `records`. */
export const linesOf = (records: readonly SpooledRecord[]): string[] => records.map((r) => r.line);

/**
 * Starts the spool child (see test/fixtures/spool-child.ts) and resolves once it printed its first line.
 * @returns the child, its first line, and `laterLines`: the complete lines it printed after the first so far.
 */
export async function startChild(
  args: string[],
): Promise<{ child: ChildProcess; firstLine: string; laterLines: () => string[] }> {
  const child = spawn(process.execPath, nodeArgs(CHILD, args), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const laterLines = (): string[] => out.split('\n').slice(1, -1);
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.on('exit', (code) => reject(new Error(`spool child exited (${code}) before printing: ${out}`)));
  });
  return { child, firstLine, laterLines };
}

/** Kills `child` with SIGKILL and resolves once it is gone. */
export function killChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Where spool directories of tests go: a RAM file system where there is one (Linux's /dev/shm), so that what the
 * tests check (framing, order, what survives a SIGKILL) does not hang on how long fsync takes on a disk that earlier
 * tests filled with writes; else the OS temp directory.
 */
export function crashTestBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}
