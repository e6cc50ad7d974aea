/**
 * `npm run bench:lookups`: what one lookup costs on the embedded FerretDB at 100 and 50,000
 * documents, for the filters the services use most (an indexed field, `$in` from a DataLoader,
 * Agenda's lock query, a count, a doctor's care-relation check: all the doctor's patients, as
 * before 2026-12-03, against the pair asked about). Run it once per build to compare, e.g. the stock pushdown
 * (`_id` only) against scripts/ferretdb/overlay/healthsync_pushdown.go:
 *   HEALTHSYNC_FERRETDB_BIN=/path/to/other-build npm run bench:lookups
 * Prints a Markdown table (paste it into bench/RESULTS.md with the build it ran on).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startDatabase } from '../scripts/db';

const SIZES = [100, 50_000];
const REPEAT = 30;

interface Row { size: number; filter: string; ms: number; found: number }

async function time(fn: () => Promise<number>): Promise<{ ms: number; found: number }> {
  let found = 0;
  await fn(); // warm
  const started = process.hrtime.bigint();
  for (let i = 0; i < REPEAT; i++) found = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6 / REPEAT, found };
}

async function main(): Promise<void> {
  delete process.env.MONGODB_URI;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-lookups-'));
  const db = await startDatabase({ port: 0, dataDir: dir });
  const conn = await mongoose.createConnection(db.uri, { dbName: 'bench_lookups' }).asPromise();
  const rows: Row[] = [];
  try {
    for (const size of SIZES) {
      const c = conn.db!.collection(`appointments_${size}`);
      await c.createIndex({ patientId: 1 });
      await c.createIndex({ doctorId: 1, start: 1 });
      const jobs = conn.db!.collection(`jobs_${size}`);
      await jobs.createIndex({ name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 });
      // subgraphs/patients/model.ts care_relations: 10 doctors, so one has size / 10 patients.
      const care = conn.db!.collection(`care_relations_${size}`);
      await care.createIndex({ doctorId: 1, patientId: 1 }, { unique: true });
      await care.createIndex({ patientId: 1 });
      for (let done = 0; done < size; done += 1000) {
        const batch = Array.from({ length: Math.min(1000, size - done) }, (_, i) => {
          const n = done + i;
          return { patientId: `p${n % Math.max(1, size / 5)}`, doctorId: `d${n % 50}`, start: new Date(Date.UTC(2026, 0, 1) + n * 60_000), status: 'SCHEDULED', conditions: n % 7 === 0 ? ['Asthma'] : [] };
        });
        await c.insertMany(batch);
        await jobs.insertMany(batch.map((b, i) => ({ name: `job.${(done + i) % 11}`, data: { n: done + i }, nextRunAt: b.start, priority: 0, lockedAt: null, disabled: false })));
        await care.insertMany(batch.map((_b, i) => ({ doctorId: `d${(done + i) % 10}`, patientId: `p${done + i}`, since: new Date() })));
      }
      const ids = (await c.find({}, { projection: { patientId: 1 } }).limit(50).toArray()).map((d) => d.patientId as string);
      const cases: Array<[string, () => Promise<number>]> = [
        ['{patientId} (indexed)', async () => (await c.find({ patientId: 'p3' }).toArray()).length],
        ['{doctorId, start range}', async () => (await c.find({ doctorId: 'd7', start: { $gte: new Date(Date.UTC(2026, 0, 1)), $lt: new Date(Date.UTC(2026, 0, 2)) } }).toArray()).length],
        ['{patientId: {$in: 50}} (DataLoader)', async () => (await c.find({ patientId: { $in: ids } }).toArray()).length],
        ['{conditions: "Asthma"} (array field)', async () => (await c.find({ conditions: 'Asthma', doctorId: 'd7' }).toArray()).length],
        ['countDocuments({doctorId})', async () => c.countDocuments({ doctorId: 'd9' })],
        ["care check, all the doctor's patients {doctorId: {$in: 1}}", async () => (await care.find({ doctorId: { $in: ['d3'] } }, { projection: { patientId: 1, doctorId: 1 } }).toArray()).length],
        ['care check, the pair {doctorId, patientId: {$in: 1}}', async () => (await care.find({ doctorId: 'd3', patientId: { $in: ['p13'] } }, { projection: { patientId: 1, doctorId: 1 } }).toArray()).length],
        ['Agenda lock query (findOneAndUpdate)', async () => {
          const r = await jobs.findOneAndUpdate(
            { $and: [{ name: 'job.3', disabled: { $ne: true } }, { $or: [{ lockedAt: { $eq: null }, nextRunAt: { $lte: new Date(0) } }, { lockedAt: { $lte: new Date(0) } }] }] },
            { $set: { lockedAt: new Date() } },
            { sort: { nextRunAt: 1, priority: -1 } },
          );
          return r ? 1 : 0;
        }],
      ];
      for (const [filter, fn] of cases) {
        const { ms, found } = await time(fn);
        rows.push({ size, filter, ms, found });
        console.error(`${size} ${filter}: ${ms.toFixed(2)} ms (${found})`);
      }
    }
  } finally {
    await conn.close();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`| filter | ${SIZES.map((s) => `${s.toLocaleString('en')} docs`).join(' | ')} | found |`);
  console.log(`|---|${SIZES.map(() => '---:').join('|')}|---:|`);
  for (const filter of [...new Set(rows.map((r) => r.filter))]) {
    const of = rows.filter((r) => r.filter === filter);
    console.log(`| ${filter} | ${of.map((r) => `${r.ms.toFixed(1)} ms`).join(' | ')} | ${of.map((r) => r.found).join(' / ')} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
