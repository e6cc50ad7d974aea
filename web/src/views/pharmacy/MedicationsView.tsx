import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Link } from 'react-router';
import type { PharmacyMedicationFieldsFragment } from '../../gql/graphql';
import { problemOf } from '../../errors';
import { useUser } from '../../session';
import { MoreButton } from '../../ui/buttons';
import { Empty, ErrorAlert, Loading, PageHeader } from '../../ui/status';
import { useSettled } from '../../ui/useSettled';
import { amount, FORMS, localDate, LowStockBadge } from './format';
import { PharmacyLowStockDocument, PharmacyMedicationsDocument } from './operations';
import { canManageStock } from './roles';

/** What is below its reorder level, on top of the catalogue. */
function LowStockAlerts({ manage }: { manage: boolean }) {
  const { data, loading, error, fetchMore } = useQuery(PharmacyLowStockDocument);
  const list = data?.medications.edges.map((e) => e.node) ?? [];
  return (
    <section className="mb-4" aria-labelledby="low-stock-heading" id="low-stock-alerts">
      <h2 className="h5" id="low-stock-heading">
        Low-stock alerts
      </h2>
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {loading && !data && <Loading what="Loading low-stock alerts" />}
      {data && list.length === 0 && <Empty>Every medication is at or above its reorder level.</Empty>}
      {list.length > 0 && (
        <ul className="list-group">
          {list.map((m) => (
            <li key={m.id} className="list-group-item list-group-item-warning d-flex flex-wrap gap-2 align-items-center low-stock-alert">
              <span className="me-auto">
                <LowStockBadge low /> <strong>{`${m.name} ${m.strength}`}</strong>: {amount(m.stockOnHand, m.unit)} on hand, reorder level {m.reorderLevel}
              </span>
              <Link className="btn btn-sm btn-outline-dark" to={`/medications/${m.id}`} aria-label={`${manage ? 'Restock' : 'Open'} ${m.name} ${m.strength}`}>
                {manage ? 'Restock' : 'Open'}
              </Link>
            </li>
          ))}
        </ul>
      )}
      <MoreButton pageInfo={data?.medications.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
    </section>
  );
}

function StockCell({ m }: { m: PharmacyMedicationFieldsFragment }) {
  return (
    <>
      <span className="me-1">{amount(m.stockOnHand, m.unit)}</span>{' '}
      <LowStockBadge low={m.lowStock} />
      <div className="small text-muted">Reorder level {m.reorderLevel}</div>
    </>
  );
}

/** The catalogue: search by name or code, low stock only, stock per medication, paging. */
export function MedicationsView() {
  const user = useUser();
  const manage = canManageStock(user.role);
  const [search, setSearch] = useState('');
  const [lowOnly, setLowOnly] = useState(false);
  const query = useSettled(search.trim(), 300);
  const { data, loading, error, fetchMore } = useQuery(PharmacyMedicationsDocument, {
    variables: { search: query || null, lowStock: lowOnly ? true : null },
  });
  const list = data?.medications.edges.map((e) => e.node) ?? [];
  return (
    <section>
      <PageHeader title="Medications">
        {manage && (
          <Link className="btn btn-primary" to="/medications/new">
            Add medication
          </Link>
        )}
      </PageHeader>
      <LowStockAlerts manage={manage} />
      <section aria-labelledby="catalogue-heading">
        <h2 className="h5" id="catalogue-heading">
          Catalogue
        </h2>
        <form className="row g-2 align-items-end mb-3" role="search" onSubmit={(e) => e.preventDefault()}>
          <div className="col-12 col-md-6">
            <label className="form-label" htmlFor="medication-search">
              Search by name or code
            </label>
            <input id="medication-search" className="form-control" type="search" value={search} onChange={(e) => setSearch(e.target.value)} autoComplete="off" />
          </div>
          <div className="col-12 col-md-6">
            <div className="form-check">
              <input id="low-stock-only" className="form-check-input" type="checkbox" checked={lowOnly} onChange={(e) => setLowOnly(e.target.checked)} />
              <label className="form-check-label" htmlFor="low-stock-only">
                Low stock only
              </label>
            </div>
          </div>
        </form>
        <ErrorAlert problem={error ? problemOf(error) : null} />
        {loading && !data && <Loading what="Loading the catalogue" />}
        {data && list.length === 0 && (
          <Empty>{query || lowOnly ? 'No medication matches this search.' : 'The catalogue is empty. Add the first medication.'}</Empty>
        )}
        {list.length > 0 && (
          <table className="table table-cards align-middle" id="medication-list">
            <thead>
              <tr>
                <th scope="col">Medication</th>
                <th scope="col">Code</th>
                <th scope="col">Stock</th>
                <th scope="col">Lot and expiry</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.id}>
                  <td data-label="Medication">
                    <strong>{`${m.name} ${m.strength}`}</strong>
                    <div className="small text-muted">{FORMS[m.form]}</div>
                  </td>
                  <td data-label="Code">{m.code}</td>
                  <td data-label="Stock">
                    <StockCell m={m} />
                  </td>
                  <td data-label="Lot and expiry">
                    {m.lot || m.expiresOn ? [m.lot && `Lot ${m.lot}`, m.expiresOn && `expires ${localDate(m.expiresOn)}`].filter(Boolean).join(', ') : '—'}
                  </td>
                  <td>
                    <Link className="btn btn-sm btn-outline-primary" to={`/medications/${m.id}`} aria-label={`${manage ? 'Restock or edit' : 'Open'} ${m.name} ${m.strength}`}>
                      {manage ? 'Restock or edit' : 'Open'}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MoreButton pageInfo={data?.medications.pageInfo} loading={loading} onMore={(after) => void fetchMore({ variables: { after } })} />
      </section>
    </section>
  );
}
