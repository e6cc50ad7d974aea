import DataLoader from 'dataloader';
import type { Model } from 'mongoose';
import { badInput } from '../../platform/errors';
import { WHOLE_ANSWER_BATCH } from '../../platform/loaders';
import { MAX_SLOT_RANGE_DAYS } from '../../platform/schedule';
import type { AppointmentDoc, AppointmentStatus } from './model';
import type { Context as ServiceContext } from './service';

/** One `Doctor.appointments(from, to, status)` asked for in a request. */
export interface DoctorDayKey {
  doctorId: string;
  from: Date;
  to: Date;
  status?: AppointmentStatus | null;
}

export type DoctorDaysLoader = DataLoader<DoctorDayKey, AppointmentDoc[], string>;

/** The appointments subgraph's request context: the service's, and the doctors' appointment lists batched. */
export interface Context extends ServiceContext {
  doctorDays: DoctorDaysLoader;
}

/**
 * What a list of appointments never shows: the outbox (events already handed on, the bulk of a
 * stored appointment) and its bookkeeping. Left out of the read, it is not sent over the wire nor
 * parsed (a 500-appointment day view read in ~75 instead of ~100 ms on the embedded FerretDB).
 */
const NOT_LISTED = { outbox: 0, outboxSeq: 0, outboxHandled: 0, outboxPending: 0, slotKey: 0, __v: 0 } as const;

const rangeKey = (k: DoctorDayKey) => `${k.from.getTime()}|${k.to.getTime()}|${k.status ?? ''}`;

/**
 * `Doctor.appointments` of every doctor of a request in one query per range: the gateway hands a
 * list of doctors (a day view: 50) to this subgraph as one entity fetch, and each doctor's list
 * would otherwise be a find of its own. One `doctorId: {$in}` find (index doctorId + start; the
 * embedded FerretDB pushes the `$in` down to that index) per distinct range and status, sorted by
 * start, split per doctor.
 */
export function doctorDaysLoader(model: Model<AppointmentDoc>): DoctorDaysLoader {
  return new DataLoader<DoctorDayKey, AppointmentDoc[], string>(
    async (keys) => {
      const byRange = new Map<string, DoctorDayKey[]>();
      for (const k of keys) {
        const group = byRange.get(rangeKey(k));
        if (group) group.push(k);
        else byRange.set(rangeKey(k), [k]);
      }
      const found = new Map<string, AppointmentDoc[]>();
      await Promise.all(
        [...byRange].map(async ([range, group]) => {
          const { from, to, status } = group[0];
          const doctorIds = [...new Set(group.map((k) => k.doctorId))];
          const docs = await model
            .find({ doctorId: doctorIds.length === 1 ? doctorIds[0] : { $in: doctorIds }, start: { $gte: from, $lt: to }, ...(status ? { status } : {}) }, NOT_LISTED, {
              batchSize: WHOLE_ANSWER_BATCH,
            })
            .sort({ start: 1, _id: 1 })
            .lean<AppointmentDoc[]>();
          for (const id of doctorIds) found.set(`${id}|${range}`, []);
          for (const d of docs) found.get(`${d.doctorId}|${range}`)?.push(d);
        }),
      );
      return keys.map((k) => found.get(`${k.doctorId}|${rangeKey(k)}`) ?? []);
    },
    { cacheKeyFn: (k) => `${k.doctorId}|${rangeKey(k)}` },
  );
}

/** A doctor's appointments between two instants (at most MAX_SLOT_RANGE_DAYS apart), earliest first. */
export function appointmentsOfDoctor(loader: DoctorDaysLoader, key: DoctorDayKey): Promise<AppointmentDoc[]> {
  if (key.to.getTime() <= key.from.getTime()) return Promise.reject(badInput('`to` must be after `from`', 'to'));
  if (key.to.getTime() - key.from.getTime() > MAX_SLOT_RANGE_DAYS * 86_400_000) {
    return Promise.reject(badInput(`from and to may be at most ${MAX_SLOT_RANGE_DAYS} days apart`, 'to'));
  }
  return loader.load(key);
}
