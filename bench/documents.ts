/**
 * `npm run bench:documents`: what the embedded FerretDB spends per operation on documents the
 * size of the services' (an appointment, an audit entry), as CPU of the database process (from
 * /proc, less sensitive than wall time to the other tenants of this machine) and wall time.
 * Compares builds in alternating rounds, e.g. one made before a change of scripts/ferretdb:
 *   npm run bench:documents -- --rounds=2 /path/to/other-build
 * (the project's own build is always measured; other builds are given as arguments).
 * Prints a Markdown table (paste it into bench/RESULTS.md with the builds it ran on).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { ensureFerretDbBinary, ferretDbArgs } from '../scripts/db';
import { cpuSeconds, freePorts } from './loadStack';

// The driver mongoose ships (the project depends on mongoose, not on the driver directly).
const { MongoClient, ObjectId } = mongoose.mongo;
type Document = mongoose.mongo.Document;

interface Case { name: string; repeat: number; run: () => Promise<unknown> }
interface Row { build: string; round: number; name: string; cpuMs: number; wallMs: number }

/** CPU the database process has used so far, in ms (bench/loadStack.ts reads /proc). */
function cpuMs(pid: number): number {
  const seconds = cpuSeconds(pid);
  if (seconds === null) throw new Error(`no CPU figures for the database process ${pid}`);
  return seconds * 1000;
}

function appointment(i: number): Document {
  return {
    _id: new ObjectId(),
    patientId: new ObjectId().toHexString(),
    doctorId: `d${i % 50}`,
    start: new Date(Date.UTC(2026, 11, 6, 8) + i * 300_000),
    end: new Date(Date.UTC(2026, 11, 6, 8) + i * 300_000 + 300_000),
    localDate: '2026-12-06',
    timeZone: 'Europe/Berlin',
    reason: 'Follow-up visit',
    status: 'SCHEDULED',
    conditions: ['Asthma'],
    specialty: 'Cardiology',
    outbox: [{ _id: new ObjectId(), type: 'APPOINTMENT_BOOKED', at: new Date(), data: { appointmentId: `a${i}` } }],
    outboxSeq: 1,
    outboxHandled: 1,
    outboxPending: false,
  };
}

function auditEntry(entityId: string): Document {
  return { at: new Date(), userId: 'u1', role: 'ADMIN', requestId: 'r1', service: 'appointments', entityType: 'Appointment', entityId, operation: 'READ', fields: ['start', 'status'], outcome: 'ALLOWED', reason: null };
}

async function measure(bin: string): Promise<Array<Omit<Row, 'build' | 'round'>>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-documents-'));
  const [port] = await freePorts(1);
  const server = spawn(bin, ferretDbArgs(port, dir), { stdio: 'ignore' });
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 30_000 });
  try {
    await client.connect();
    const db = client.db('bench_documents');
    const appointments = db.collection('appointments');
    await appointments.createIndex({ doctorId: 1, start: 1 });
    const docs = Array.from({ length: 500 }, (_, i) => appointment(i));
    await appointments.insertMany(docs);
    const audit = db.collection('phi_audit');
    await audit.createIndex({ at: -1, _id: -1 });
    await audit.createIndex({ entityType: 1, entityId: 1, at: -1 });
    await audit.createIndex({ userId: 1, at: -1 });
    const cases: Case[] = [
      { name: 'find all 500 appointments', repeat: 40, run: () => appointments.find({}).toArray() },
      { name: 'find one doctor\'s 10 (indexed)', repeat: 300, run: () => appointments.find({ doctorId: 'd7' }).toArray() },
      { name: 'findOne by _id', repeat: 600, run: () => appointments.findOne({ _id: docs[7]._id }) },
      { name: 'insertMany 500 audit entries', repeat: 40, run: () => audit.insertMany(docs.map((d) => auditEntry(String(d._id)))) },
      // What platform/audit.ts stores for such a list since the grouping: one record naming the 500.
      { name: 'insertOne audit record of 500 entities', repeat: 200, run: () => audit.insertOne({ ...auditEntry(''), entityId: docs.map((d) => String(d._id)) }) },
    ];
    const rows: Array<Omit<Row, 'build' | 'round'>> = [];
    for (const c of cases) {
      await c.run(); // warm
      const cpu0 = cpuMs(server.pid!);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < c.repeat; i++) await c.run();
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6 / c.repeat;
      rows.push({ name: c.name, cpuMs: (cpuMs(server.pid!) - cpu0) / c.repeat, wallMs });
    }
    return rows;
  } finally {
    await client.close().catch(() => undefined);
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 2);
  const builds = [ensureFerretDbBinary((m) => console.error(m)), ...process.argv.slice(2).filter((a) => !a.startsWith('--'))];
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const build of builds) {
      for (const r of await measure(build)) {
        rows.push({ build, round, ...r });
        console.error(`round ${round} ${build}: ${r.name}: ${r.cpuMs.toFixed(2)} ms CPU, ${r.wallMs.toFixed(2)} ms wall`);
      }
    }
  }
  console.log(`| operation | ${builds.map((b) => `${path.basename(b)} CPU / wall (ms)`).join(' | ')} |`);
  console.log(`|---|${builds.map(() => '---:').join('|')}|`);
  for (const name of [...new Set(rows.map((r) => r.name))]) {
    const cells = builds.map((b) => rows.filter((r) => r.build === b && r.name === name).map((r) => `${r.cpuMs.toFixed(2)} / ${r.wallMs.toFixed(2)}`).join('; '));
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
