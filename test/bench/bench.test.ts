import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ONE_PER_REQUEST_VARIANTS, OUR_VARIANTS, RUN_ORDER, VARIANTS } from '../../bench/protocol.js';

const BENCH = fileURLToPath(new URL('../../bench/bench.ts', import.meta.url));
const run = promisify(execFile);

/** Runs `npm run bench` with these arguments, small: the figures are not checked here, what the run reports is. */
async function bench(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', BENCH, '--entries', '1000', ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

interface Round {
  usPerLog?: number;
  usPerLogFirst?: number;
  busyUsPerEntry?: number;
  cpuWaitUsPerEntry?: number;
  entriesPerSecond: number;
  requests: number;
  received: { entries: number; inOrder: boolean };
  stats?: { delivered: number };
}

interface Report {
  variants: { variant: string; entries: number; inOrder: boolean; rounds: Round[] }[];
  targets: { name: string; value: number; rounds: number[]; bound?: string; met?: boolean }[];
  problems: string[];
  peerDelivery: string[];
}

describe('bench (npm run bench), in a short run', function () {
  this.timeout(90_000);

  it('runs every variant on the receiver, checks delivery, and gives each target with its round', async function () {
    const report = JSON.parse(await bench('--rounds', '1', '--warmup', '1000', '--json')) as Report;

    expect(report.problems).to.deep.equal([]);
    expect([...RUN_ORDER].sort(), 'every variant runs').to.deep.equal([...VARIANTS].sort());
    expect(report.variants.map(({ variant, entries }) => [variant, entries])).to.deep.equal(
      VARIANTS.map((variant) => [variant, ONE_PER_REQUEST_VARIANTS.includes(variant) ? 100 : 1000]),
    );
    const byName = new Map(report.variants.map((row) => [row.variant, row]));
    for (const variant of VARIANTS.filter((name) => name !== 'noop')) {
      const row = byName.get(variant);
      for (const round of row?.rounds ?? []) {
        expect(round.received.entries, variant).to.equal(row?.entries);
        expect(round.entriesPerSecond, variant).to.be.above(0);
      }
    }
    // Order is this transport's promise (winston's transport makes none).
    for (const variant of OUR_VARIANTS) {
      for (const round of byName.get(variant)?.rounds ?? []) expect(round.received.inOrder, variant).to.equal(true);
    }
    for (const round of byName.get('one-per-request')?.rounds ?? []) {
      expect(round.requests).to.equal(100);
      expect(round.stats?.delivered).to.equal(100);
    }
    for (const round of byName.get('batched')?.rounds ?? []) {
      expect(round.requests, 'batched: entries share requests').to.be.within(1, 100);
      expect(round.stats?.delivered).to.equal(1000);
    }
    for (const round of byName.get('thread-x10')?.rounds ?? []) {
      expect(round.requests, 'ten transports: ten paths, ten requests at least').to.be.within(10, 1000);
      expect(round.stats?.delivered, "the ten transports' stats() add up").to.equal(1000);
    }
    for (const variant of ['noop', 'batched', 'batched-thread', 'otel-sdk']) {
      for (const round of byName.get(variant)?.rounds ?? []) {
        expect(round.busyUsPerEntry, `${variant}: the application thread's busy time`).to.be.above(0);
        // Linux's scheduler statistics: the part of it spent waiting for a CPU.
        if (process.platform === 'linux') expect(round.cpuWaitUsPerEntry).to.be.at.least(0);
      }
    }
    for (const round of byName.get('plain-got')?.rounds ?? []) {
      expect(round.busyUsPerEntry).to.equal(undefined);
      expect(round.cpuWaitUsPerEntry).to.equal(undefined);
    }
    expect(
      report.peerDelivery,
      'the OpenTelemetry SDK and winston Http: 1,000 entries, one batch, in order',
    ).to.deep.equal([]);
    for (const round of byName.get('noop')?.rounds ?? []) {
      expect(round.usPerLog).to.be.above(0);
      expect(round.usPerLogFirst, 'the first 100 calls, as many as a one-per-request run makes').to.be.above(0);
    }

    expect(report.targets).to.have.length(21);
    const bounds = new Map(report.targets.map(({ name, bound }) => [name, bound]));
    expect(bounds.get('batched-thread busy µs per entry / no-op')).to.equal('<= 1.3');
    expect(bounds.get('batched busy µs per entry / no-op'), 'for reference').to.equal(undefined);
    expect(bounds.get('batched-thread rate / batched rate')).to.equal('>= 0.8');
    expect(bounds.get('thread-x10 peak RSS / batched-thread')).to.equal('<= 1.5');
    expect(bounds.get('batched-otlp rate / OpenTelemetry SDK rate')).to.equal('>= 1.3');
    expect(bounds.get('batched-otlp µs per log() / OpenTelemetry SDK')).to.equal('<= 1');
    expect(bounds.get('batched-otlp peak RSS / OpenTelemetry SDK')).to.equal('<= 1');
    expect(bounds.get('otlp-thread rate / OpenTelemetry SDK rate'), 'for reference').to.equal(undefined);
    for (const variant of ['batched-otlp', 'batched-loki', 'batched-elasticsearch']) {
      const target = report.targets.find(({ name }) => name === `${variant} µs per log() / batched's`);
      expect(target?.bound, variant).to.equal('<= 1.3');
    }
    const spoolCost = report.targets.find(({ name }) => name.startsWith("batched + spool 'always' µs per log()"));
    expect(spoolCost?.bound, 'a difference, not a ratio').to.equal('<= 1');
    const reference = report.targets.find(({ name }) => name === 'one-per-request rate / raw node:http rate');
    expect(reference?.value, 'the ratio to raw node:http, printed without a target').to.be.above(0);
    expect(reference?.bound).to.equal(undefined);
    expect(reference?.met).to.equal(undefined);
    expect(report.targets.find(({ name }) => name === 'one-per-request rate / plain got rate')?.bound).to.equal('>= 2');
    for (const target of report.targets) {
      expect(target.rounds, target.name).to.deep.equal([target.value]);
      if (target !== spoolCost) expect(target.value, target.name).to.be.above(0);
    }
  });

  it('prints a table, the targets with their verdicts and rounds (the median of them), and the delivery check', async function () {
    const output = await bench('--rounds', '2', '--only', 'noop,batched');

    const perLog = /^batched µs per log\(\) \/ no-op +(\d+\.\d\d) .* rounds (\d+\.\d\d), (\d+\.\d\d)$/m.exec(output);
    expect(perLog, 'the ratio, then each round').not.to.equal(null);
    const [median, first, second] = (perLog ?? []).slice(1).map(Number) as [number, number, number];
    expect(median, 'the median of two rounds is their mean').to.be.closeTo((first + second) / 2, 0.006);

    expect(output).to.match(/^winston → no-op transport \(ceiling\) +1,000 /m);
    expect(output).to.match(/^winston-logstream, batch: true +1,000 /m);
    expect(output).to.match(
      /^batched µs per log\(\) \/ no-op +\d+\.\d\d {2}\(target <= 1\.5: (met|NOT met)\) {2}rounds /m,
    );
    expect(output).to.match(
      /^batched rate \/ winston Http rate +— {2}\(target >= 1\.5: not measured\) {2}rounds —, —$/m,
    );
    expect(output).to.match(/^one-per-request rate \/ raw node:http rate +— {2}\(for reference, no target\)$/m);
    expect(output).to.include("delivery check: every entry arrived, once and in order, for this transport's variants");
  });
});
