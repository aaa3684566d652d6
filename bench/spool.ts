/**
 * The spool's costs, by hand (not a test): `npx tsx bench/spool.ts [dir]`.
 * - append: ns per call on the hot path (1e6 calls of a 200-byte line);
 * - encode: ns per record of the write's main-thread part (framing and CRC-32), measured through flush on a 60 s
 *   interval so the timer never interferes;
 * - flush: MB/s of batches such as one syncInterval accumulates (encode + write + fdatasync), and a sustained run
 *   where a producer appends as fast as it can, yielding every 1000 entries, with the real 200 ms timer.
 * Writes under `dir` (default: the OS temp dir, which must be a real disk for fdatasync to mean anything).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { Spool } from '../src/delivery/spool/index.js';
import { HEADER_BYTES, encodeRecord } from '../src/delivery/spool/record-format.js';

const root = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'spool-bench-'));
const line = JSON.stringify({ level: 'info', message: 'GET /api/items 200', ms: 12, pad: 'x'.repeat(130) });
const size = Buffer.byteLength(line);

function open(name: string, syncIntervalMs: number): Spool {
  const result = Spool.open({ dir: join(root, name), syncIntervalMs, maxBytes: 4 * 1024 ** 3 });
  if (result.kind !== 'opened') throw new Error(result.message);
  return result.spool;
}

try {
  {
    const spool = open('append', 60_000);
    const n = 1_000_000;
    for (let i = 0; i < 100_000; i++) spool.append(line, size, i); // warm-up
    spool.release(100_000);
    // As in a run: 200 ms of appends at 50k entries/s between writes, then the lists start over.
    let small = 0n;
    for (let round = 0; round < 100; round++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 10_000; i++) spool.append(line, size, i);
      small += process.hrtime.bigint() - t;
      spool.release(10_000);
      await spool.flush();
    }
    console.log(`append: ${(Number(small) / n).toFixed(1)} ns/call, 10k appends between writes`);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) spool.append(line, size, i);
    const ns = Number(process.hrtime.bigint() - start) / n;
    console.log(`append: ${ns.toFixed(1)} ns/call, 1e6 appends unwritten (${size}-byte line)`);
    const e = process.hrtime.bigint();
    const framed = Buffer.allocUnsafe(n * (HEADER_BYTES + size));
    for (let i = 0, at = 0; i < n; i++) at = encodeRecord(framed, at, line, size, i);
    console.log(`encode (framing + CRC-32): ${(Number(process.hrtime.bigint() - e) / n).toFixed(0)} ns/record`);
    const t = process.hrtime.bigint();
    await spool.flush();
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const mb = (n * (size + 18)) / 1024 ** 2;
    console.log(
      `flush of ${n} records, ${mb.toFixed(0)} MiB: ${ms.toFixed(0)} ms (${(mb / (ms / 1000)).toFixed(0)} MiB/s)`,
    );
    await spool.close();
  }
  for (const records of [1_000, 10_000, 50_000]) {
    const spool = open(`batch-${records}`, 60_000);
    let total = 0;
    const rounds = 10;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < records; i++) spool.append(line, size, i);
      const t = process.hrtime.bigint();
      await spool.flush();
      total += Number(process.hrtime.bigint() - t);
      spool.release(records);
    }
    const ms = total / rounds / 1e6;
    const mb = (records * (size + 18)) / 1024 ** 2;
    console.log(
      `batch of ${records} (${mb.toFixed(2)} MiB): ${ms.toFixed(1)} ms per write+fdatasync (${(mb / (ms / 1000)).toFixed(0)} MiB/s)`,
    );
    await spool.close();
  }
  {
    const spool = open('sustained', 200);
    const seconds = 3;
    const end = Date.now() + seconds * 1000;
    let n = 0;
    while (Date.now() < end) {
      for (let i = 0; i < 1000; i++, n++) spool.append(line, size, n);
      await yieldNow();
    }
    // Nothing released: every entry is written. What the timer wrote during the run is what is not still pending.
    const written = spool.records - spool.unwritten;
    const mb = (written * (size + 18)) / 1024 ** 2;
    console.log(
      `sustained, 200 ms timer, nothing released: ${(n / seconds / 1000).toFixed(0)}k entries/s appended, ` +
        `${(written / seconds / 1000).toFixed(0)}k entries/s = ${(mb / seconds).toFixed(0)} MiB/s written and fdatasynced`,
    );
    await spool.flush();
    await spool.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
