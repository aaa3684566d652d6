// Bench smoke test (issue 12 wants these in a script of their own, out of `npm test`): it runs the application
// benchmark in its shortest form and checks what it reports, not the figures.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { APP_RUN_ORDER, APP_VARIANTS } from '../../bench/app-protocol.js';

const APP_BENCH = fileURLToPath(new URL('../../bench/app.ts', import.meta.url));
const run = promisify(execFile);

interface Round {
  requestsPerSecond: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  threadCpuUsPerRequest: number | null;
  receiverCpuUsPerRequest: number;
  peakRssMiB: number;
  logged: number;
  received: number;
  lost: number;
}

interface Report {
  variants: { variant: string; rateRatio: number | null; lost: number; rounds: Round[] }[];
  targets: { name: string; met: boolean | null; detail: string }[];
}

describe('application bench (npm run bench:app), in a short run', function () {
  // About 20 s on a busy 2-core machine (load average 11), 30 s at worst there: mostly seven processes loading
  // through tsx and the receiver warming up.
  this.timeout(120_000);

  it('runs every variant under load and reports its figures and the entries it lost', async function () {
    const args = ['--rounds', '1', '--duration', '1', '--connections', '4', '--warmup', '100', '--drain-ms', '2000'];
    args.push('--records', '2'); // the application's own work, as a list endpoint's
    const { stdout } = await run(process.execPath, ['--import', 'tsx', APP_BENCH, ...args, '--json'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const report = JSON.parse(stdout) as Report;

    expect([...APP_RUN_ORDER].sort(), 'every variant runs').to.deep.equal([...APP_VARIANTS].sort());
    expect(report.variants.map(({ variant }) => variant)).to.deep.equal([...APP_VARIANTS]);
    for (const row of report.variants) {
      expect(row.rounds, row.variant).to.have.length(1);
      expect(row.lost, row.variant).to.be.a('number');
      const [round] = row.rounds as [Round];
      const sends = row.variant !== 'none' && row.variant !== 'noop';
      expect(round.lost, row.variant)
        .to.be.a('number')
        .and.to.equal(sends ? round.logged - round.received : 0);
      for (const figure of ['requestsPerSecond', 'p99Ms', 'cpuUsPerRequest', 'peakRssMiB'] as const)
        expect(round[figure], `${row.variant} ${figure}`).to.be.a('number').and.to.be.at.least(0);
      if (process.platform === 'linux') {
        expect(round.threadCpuUsPerRequest, `${row.variant}: the application thread's CPU`)
          .to.be.a('number')
          .above(0)
          .and.at.most(round.cpuUsPerRequest * 1.05); // ticks of 10 ms against µs: a little over, at most
      }
      if (sends) expect(round.receiverCpuUsPerRequest, `${row.variant}: the receiver's CPU`).to.be.above(0);
      expect(row.rateRatio, row.variant).to.be.a('number');
      if (row.variant === 'noop') expect(row.rateRatio).to.equal(1);
      if (row.variant === 'none') expect(round.logged).to.equal(0);
      else expect(round.logged, `${row.variant}: one entry per request`).to.be.above(100);
    }
    expect(report.targets.map(({ name }) => name)).to.have.length(4);
    for (const target of report.targets) expect(target.detail, target.name).to.be.a('string').and.not.empty;
  });
});
