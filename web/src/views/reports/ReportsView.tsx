import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { problemOf, UserMessage } from '../../errors';
import type { AnalyticsReport, Granularity, ReportsOverTimeQuery, ReportsQuery } from '../../gql/graphql';
import { addDays, dateTimeIn, getClinicZone, mondayOf, today } from '../../time';
import { BusyButton, SubmitButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { BarChart, ColumnChart, type Bar } from './charts';
import { ReportsCsvDocument, ReportsDocument, ReportsOverTimeDocument, ReportsRefreshDocument } from './operations';
import './reports.css';

/** The clinic's zone: the browser's (the graph does not publish CLINIC_TIME_ZONE). */

interface Range {
  from: string;
  to: string;
}

const GRANULARITIES: readonly { value: Granularity; label: string }[] = [
  { value: 'DAY', label: 'Day' },
  { value: 'WEEK', label: 'Week' },
  { value: 'MONTH', label: 'Month' },
];

const CSV_NAME: Record<AnalyticsReport, string> = {
  APPOINTMENTS_PER_DOCTOR: 'appointments-per-doctor',
  APPOINTMENTS_OVER_TIME: 'appointments-over-time',
  CONDITIONS_BY_SPECIALTY: 'conditions-by-specialty',
  AVERAGE_APPOINTMENTS_PER_PATIENT: 'average-appointments-per-patient',
};

const dayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const shortDayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const monthFormat = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** "4 Dec 2026" for a yyyy-mm-dd. */
export function longDate(date: string): string {
  return dayFormat.format(new Date(`${date}T12:00:00Z`));
}

function periodLabel(period: string, granularity: Granularity): string {
  const d = new Date(`${period}T12:00:00Z`);
  if (granularity === 'MONTH') return monthFormat.format(d);
  if (granularity === 'WEEK') return `Week of ${shortDayFormat.format(d)}`;
  return shortDayFormat.format(d);
}

function periodStart(date: string, granularity: Granularity): string {
  if (granularity === 'WEEK') return mondayOf(date);
  if (granularity === 'MONTH') return `${date.slice(0, 7)}-01`;
  return date;
}

function nextPeriod(period: string, granularity: Granularity): string {
  if (granularity === 'DAY') return addDays(period, 1);
  if (granularity === 'WEEK') return addDays(period, 7);
  const [y, m] = period.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

/** Every period of the range, the empty ones with 0 (the graph lists only periods with appointments). */
function allPeriods(rows: readonly { period: string; count: number }[], range: Range, granularity: Granularity): { period: string; count: number }[] {
  const counts = new Map(rows.map((r) => [r.period, r.count]));
  const out: { period: string; count: number }[] = [];
  for (let p = periodStart(range.from, granularity); p <= range.to && out.length <= 400; p = nextPeriod(p, granularity)) out.push({ period: p, count: counts.get(p) ?? 0 });
  return out.length > 400 ? [...rows] : out;
}

/** "A 3, B 1, and 4 more" for a chart's aria-label. */
function summary(bars: readonly Bar[], max = 8): string {
  const named = bars.slice(0, max).map((b) => `${b.label} ${b.value}`);
  return bars.length > max ? `${named.join(', ')}, and ${bars.length - max} more` : named.join(', ');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function CsvButton({ report, range, title }: { report: AnalyticsReport; range: Range; title: string }) {
  const client = useApolloClient();
  const action = useAction(async () => {
    const result = await client.query({ query: ReportsCsvDocument, variables: { report, range }, fetchPolicy: 'network-only' });
    const csv = result.data?.analyticsCsv;
    if (csv === undefined) throw new UserMessage('The CSV file could not be made. Please try again.');
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `${CSV_NAME[report]}_${range.from}_${range.to}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  return (
    <div>
      <BusyButton className="btn btn-sm btn-outline-primary" busy={action.busy} onClick={() => void action.run()}>
        Download CSV<span className="visually-hidden"> of {title}</span>
      </BusyButton>
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
    </div>
  );
}

function ReportCard({ id, title, report, range, children }: { id: string; title: string; report: AnalyticsReport; range: Range; children: ReactNode }) {
  return (
    <section className="card mb-4" id={id} aria-labelledby={`${id}-title`}>
      <div className="card-body">
        <div className="d-flex flex-wrap align-items-start gap-2 mb-2">
          <h2 className="h5 me-auto mb-0" id={`${id}-title`}>
            {title}
          </h2>
          <CsvButton report={report} range={range} title={title.toLowerCase()} />
        </div>
        {children}
      </div>
    </section>
  );
}

function PerDoctor({ data, range }: { data: ReportsQuery['appointmentsPerDoctor']; range: Range }) {
  const bars = data.rows.map((r) => ({ label: r.doctor.name, value: r.count }));
  return (
    <ReportCard id="report-per-doctor" title="Appointments per doctor" report="APPOINTMENTS_PER_DOCTOR" range={range}>
      {data.rows.length === 0 ? (
        <Empty>No appointments in this range.</Empty>
      ) : (
        <>
          <BarChart bars={bars} label={`Appointments per doctor, ${plural(data.total, 'appointment')} in all: ${summary(bars)}.`} />
          <table className="table table-cards table-sm mt-3 mb-0">
            <thead>
              <tr>
                <th scope="col">Doctor</th>
                <th scope="col">Specialty</th>
                <th scope="col" className="text-md-end">
                  Appointments
                </th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((r) => (
                <tr key={`${r.doctor.id}-${r.specialty}`}>
                  <td data-label="Doctor">{r.doctor.name}</td>
                  <td data-label="Specialty">{r.specialty}</td>
                  <td data-label="Appointments" className="text-md-end">
                    {r.count}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="mt-2 mb-0 fw-semibold" id="per-doctor-total">
            Total: {plural(data.total, 'appointment')}
          </p>
        </>
      )}
    </ReportCard>
  );
}

function OverTime({ range }: { range: Range }) {
  const [granularity, setGranularity] = useState<Granularity>('DAY');
  const { data: answer, previousData, loading, error } = useQuery(ReportsOverTimeDocument, { variables: { range, granularity } });
  const data = (answer ?? previousData)?.appointmentsOverTime;
  return (
    <ReportCard id="report-over-time" title="Appointments over time" report="APPOINTMENTS_OVER_TIME" range={range}>
      <div className="row g-2 mb-2">
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="report-granularity">
            Count per
          </label>
          <select id="report-granularity" className="form-select form-select-sm" value={granularity} onChange={(e) => setGranularity(e.target.value as Granularity)}>
            {GRANULARITIES.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading appointments over time" />}
      {data && <OverTimeFigures data={data} range={range} />}
    </ReportCard>
  );
}

function OverTimeFigures({ data, range }: { data: ReportsOverTimeQuery['appointmentsOverTime']; range: Range }) {
  const periods = allPeriods(data.rows, range, data.granularity);
  const bars = periods.map((p) => ({ label: periodLabel(p.period, data.granularity), value: p.count }));
  const busiest = data.rows.reduce<{ period: string; count: number } | null>((best, r) => (!best || r.count > best.count ? r : best), null);
  const unit = GRANULARITIES.find((g) => g.value === data.granularity)?.label.toLowerCase() ?? 'period';
  return (
    <>
      {data.total === 0 ? (
        <Empty>No appointments in this range.</Empty>
      ) : (
        <>
          <ColumnChart
            bars={bars}
            label={`Appointments per ${unit} from ${longDate(range.from)} to ${longDate(range.to)}: ${plural(data.total, 'appointment')} in all${busiest ? `, the most (${busiest.count}) in ${periodLabel(busiest.period, data.granularity)}` : ''}.`}
          />
          <p className="small text-muted mt-2 mb-1">Periods with appointments (the CSV file counts per day):</p>
          <table className="table table-cards table-sm mb-0" id="over-time-table">
            <thead>
              <tr>
                <th scope="col">{data.granularity === 'DAY' ? 'Day' : data.granularity === 'WEEK' ? 'Week' : 'Month'}</th>
                <th scope="col" className="text-md-end">
                  Appointments
                </th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((r) => (
                <tr key={r.period}>
                  <td data-label={data.granularity === 'DAY' ? 'Day' : data.granularity === 'WEEK' ? 'Week' : 'Month'}>{data.granularity === 'DAY' ? longDate(r.period) : periodLabel(r.period, data.granularity)}</td>
                  <td data-label="Appointments" className="text-md-end">
                    {r.count}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

function Conditions({ data, range }: { data: ReportsQuery['conditionsBySpecialty']; range: Range }) {
  return (
    <ReportCard id="report-conditions" title="Conditions by specialty" report="CONDITIONS_BY_SPECIALTY" range={range}>
      {data.specialties.length === 0 ? (
        <Empty>No conditions were recorded at completed visits in this range.</Empty>
      ) : (
        <>
          <p className="small text-muted">The five most frequent conditions recorded at completed visits, per specialty of the attending doctor.</p>
          <div className="row g-3">
            {data.specialties.map((s) => {
              const bars = s.top.map((c) => ({ label: c.condition, value: c.count }));
              const slug = s.specialty.replace(/\W+/g, '-').toLowerCase();
              return (
                <div className="col-12 col-lg-6" key={s.specialty}>
                  <h3 className="h6" id={`specialty-${slug}`}>
                    {s.specialty}
                  </h3>
                  <BarChart bars={bars} label={`Conditions seen in ${s.specialty}: ${summary(bars)}.`} />
                  <ul className="list-group list-group-flush mt-2" aria-labelledby={`specialty-${slug}`}>
                    {s.top.map((c) => (
                      <li key={c.condition} className="list-group-item d-flex justify-content-between gap-2 px-0">
                        <span>{c.condition}</span>
                        <span className="fw-semibold">{plural(c.count, 'visit')}</span>
                      </li>
                    ))}
                  </ul>
                </div>
              );
            })}
          </div>
        </>
      )}
    </ReportCard>
  );
}

function Average({ data, range }: { data: ReportsQuery['averageAppointmentsPerPatient']; range: Range }) {
  return (
    <ReportCard id="report-average" title="Average appointments per patient" report="AVERAGE_APPOINTMENTS_PER_PATIENT" range={range}>
      {data.totalPatients === 0 ? (
        <Empty>No patient had an appointment in this range.</Empty>
      ) : (
        <div className="d-flex flex-wrap align-items-center gap-4">
          <p className="report-figure mb-0" id="average-figure">
            {data.average.toFixed(2)}
          </p>
          <dl className="row mb-0 flex-grow-1">
            <dt className="col-7 col-md-5">Appointments</dt>
            <dd className="col-5 col-md-7 mb-1" id="average-appointments">
              {data.totalAppointments}
            </dd>
            <dt className="col-7 col-md-5">Patients with an appointment</dt>
            <dd className="col-5 col-md-7 mb-1" id="average-patients">
              {data.totalPatients}
            </dd>
            <dt className="col-7 col-md-5">Per patient</dt>
            <dd className="col-5 col-md-7 mb-0">{data.average.toFixed(2)}</dd>
          </dl>
        </div>
      )}
    </ReportCard>
  );
}

/** The four reports of a date range, their charts, tables and CSV files. */
export function ReportsView() {
  const initial = useMemo<Range>(() => {
    const to = today(getClinicZone());
    return { from: addDays(to, -29), to };
  }, []);
  const [draft, setDraft] = useState<Range>(initial);
  const [range, setRange] = useState<Range>(initial);
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const client = useApolloClient();
  const { data, loading, error } = useQuery(ReportsDocument, { variables: { range } });
  const [refresh] = useMutation(ReportsRefreshDocument);
  const update = useAction(async (key: string) => {
    const result = await refresh({ context: { idempotencyKey: key } });
    await client.refetchQueries({ include: ['Reports', 'ReportsOverTime'] });
    const run = result.data?.refreshAnalytics;
    if (run) setNotice(run.changes === 0 ? 'The figures were already up to date.' : `Figures updated: ${plural(run.changes, 'appointment change')} counted.`);
  });

  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (!draft.from || !draft.to) return setFormProblem('Choose both a start and an end date.');
    if (draft.to < draft.from) return setFormProblem('The end date is before the start date.');
    setFormProblem(null);
    setRange({ ...draft });
  };

  const computedAt = data
    ? [data.appointmentsPerDoctor.computedAt, data.conditionsBySpecialty.computedAt, data.averageAppointmentsPerPatient.computedAt]
        .filter((t): t is string => typeof t === 'string')
        .sort()
        .at(-1)
    : undefined;
  const empty = data && data.appointmentsPerDoctor.total === 0 && data.averageAppointmentsPerPatient.totalAppointments === 0;

  return (
    <section>
      <PageHeader title="Reports">
        <BusyButton className="btn btn-outline-primary" busy={update.busy} onClick={() => void update.run()} id="reports-update">
          Update now
        </BusyButton>
      </PageHeader>
      <form className="row g-2 align-items-end mb-3" id="reports-range" onSubmit={apply} aria-label="Date range">
        <div className="col-6 col-md-3">
          <label className="form-label" htmlFor="reports-from">
            From
          </label>
          <input id="reports-from" className="form-control" type="date" required value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </div>
        <div className="col-6 col-md-3">
          <label className="form-label" htmlFor="reports-to">
            To (included)
          </label>
          <input id="reports-to" className="form-control" type="date" required value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </div>
        <div className="col-12 col-md-auto">
          <SubmitButton busy={loading && !data}>Show</SubmitButton>
        </div>
      </form>
      {formProblem && (
        <div className="alert alert-danger" role="alert">
          {formProblem}
        </div>
      )}
      <p className="text-muted" id="reports-computed" role="status">
        {longDate(range.from)} to {longDate(range.to)}, by the visit’s day in the doctor’s time zone.{' '}
        {data && (computedAt ? `Figures computed ${dateTimeIn(computedAt, getClinicZone())}.` : 'The figures have not been computed yet: press “Update now”.')}
      </p>
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      <ErrorAlert problem={update.problem} onDismiss={update.clear} />
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading reports" />}
      {empty && (
        <Empty>
          No appointments between {longDate(range.from)} and {longDate(range.to)}. Choose another range, or press “Update now” if appointments were just booked.
        </Empty>
      )}
      {data && !empty && (
        <>
          <PerDoctor data={data.appointmentsPerDoctor} range={range} />
          <OverTime range={range} />
          <Conditions data={data.conditionsBySpecialty} range={range} />
          <Average data={data.averageAppointmentsPerPatient} range={range} />
        </>
      )}
    </section>
  );
}
