import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { DeliveryStats } from '../../src/index.js';
import { type TestReceiver, useTestReceiver } from '../support/receiver.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/exit-after-logging.ts', import.meta.url));
/** Generous: the point is that the process exits by itself, not how fast. */
const EXIT_BOUND_MS = 5000;

interface ChildRun {
  code: number | null;
  exitedAt: number;
  stats: DeliveryStats;
  stderr: string;
}

/** Runs the fixture script to its end (or kills it after `killAfterMs`, failing the test). */
function runScript(args: string[], killAfterMs = 15_000): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      if (code === null)
        return reject(new Error(`the script did not exit within ${killAfterMs} ms; stderr: ${stderr}`));
      try {
        resolve({ code, exitedAt: Date.now(), stats: JSON.parse(stdout.trim()) as DeliveryStats, stderr });
      } catch {
        reject(new Error(`unreadable stdout: ${stdout}; stderr: ${stderr}`));
      }
    });
  });
}

describe('process lifecycle, with a real server in another process', function () {
  let receiver: TestReceiver;
  useTestReceiver((started) => (receiver = started));

  for (const batch of [false, true]) {
    const mode = batch ? 'batched' : 'one entry per request';
    it(`a script that logs and returns exits by itself (code 0) once everything is delivered (${mode})`, async function () {
      const run = await runScript([receiver.url(), '200', 'return', ...(batch ? ['batch'] : [])]);

      expect(run.code).to.equal(0);
      expect(run.stderr).to.equal('');
      const requests = await receiver.accepted();
      const entries = await receiver.entries();
      expect(entries.map((entry) => entry.seq)).to.deep.equal([...Array(200).keys()]);
      expect(run.stats).to.include({ logged: 200, delivered: 200, queued: 0, pending: 0 });
      const lastDelivery = Math.max(...requests.map((request) => request.at));
      expect(run.exitedAt - lastDelivery, 'ms from the last delivery to exit').to.be.below(EXIT_BOUND_MS);
    });
  }

  it("loses nothing with winston's pattern: logger.on('finish', () => process.exit(0)); logger.end()", async function () {
    const run = await runScript([receiver.url(), '200', 'end']);

    expect(run.code).to.equal(0);
    expect(run.stats).to.include({ logged: 200, delivered: 200, queued: 0 });
    expect((await receiver.entries()).map((entry) => entry.seq)).to.deep.equal([...Array(200).keys()]);
  });
});
