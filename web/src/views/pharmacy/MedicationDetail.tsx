import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { problemOf } from '../../errors';
import type { PharmacyMedicationFieldsFragment } from '../../gql/graphql';
import { useUser } from '../../session';
import { SubmitButton } from '../../ui/buttons';
import { ErrorAlert, Loading, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { amount, FORMS, localDate, LowStockBadge } from './format';
import { CATALOGUE_QUERIES, count, EditMedication } from './MedicationEditor';
import { PharmacyMedicationDocument, PharmacyReceiveStockDocument } from './operations';
import { canManageStock } from './roles';

/** A delivery into stock: quantity, and the delivery's lot and expiry when known. */
function Restock({ medication, onDone }: { medication: PharmacyMedicationFieldsFragment; onDone: (text: string) => void }) {
  const [quantity, setQuantity] = useState('');
  const [lot, setLot] = useState('');
  const [expiresOn, setExpiresOn] = useState('');
  const [receive] = useMutation(PharmacyReceiveStockDocument, { refetchQueries: CATALOGUE_QUERIES });
  const action = useAction(async (key: string, q: string, l: string, e: string) => {
    const n = count(q, 'Quantity received', 1);
    const { data } = await receive({
      variables: { medicationId: medication.id, input: { quantity: n, lot: l.trim() || null, expiresOn: e || null } },
      context: { idempotencyKey: key },
    });
    setQuantity('');
    setLot('');
    setExpiresOn('');
    if (data) onDone(`Received ${amount(n, medication.unit)}. Stock on hand is now ${amount(data.receiveStock.stockOnHand, data.receiveStock.unit)}.`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(quantity, lot, expiresOn);
  };
  return (
    <form onSubmit={submit} id="restock-form" noValidate>
      <div className="row g-3">
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="restock-quantity">
            Quantity received ({medication.unit})
          </label>
          <input id="restock-quantity" className="form-control" type="number" min={1} step={1} inputMode="numeric" required value={quantity} onChange={(e) => setQuantity(e.target.value)} />
        </div>
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="restock-lot">
            Lot number of the delivery (optional)
          </label>
          <input id="restock-lot" className="form-control" value={lot} onChange={(e) => setLot(e.target.value)} />
        </div>
        <div className="col-12 col-md-4">
          <label className="form-label" htmlFor="restock-expires">
            Expiry date of the delivery (optional)
          </label>
          <input id="restock-expires" className="form-control" type="date" value={expiresOn} onChange={(e) => setExpiresOn(e.target.value)} />
        </div>
      </div>
      <div className="form-text">A lot and expiry given here become the medication’s current lot and expiry.</div>
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
      <div className="mt-3">
        <SubmitButton busy={action.busy}>Receive stock</SubmitButton>
      </div>
    </form>
  );
}

/** One medication: its stock, a restock form and its catalogue fields (for those who manage stock). */
export function MedicationDetail() {
  const { id = '' } = useParams();
  const user = useUser();
  const manage = canManageStock(user.role);
  const location = useLocation();
  const [notice, setNotice] = useState<string | null>(() => (location.state as { notice?: string } | null)?.notice ?? null);
  const valid = /^[0-9a-f]{24}$/i.test(id);
  const { data, loading, error } = useQuery(PharmacyMedicationDocument, { variables: { id }, skip: !valid });
  const m = data?.medication;
  return (
    <section>
      <PageHeader title={m ? `${m.name} ${m.strength}` : 'Medication'}>
        <Link to="/medications">Back to the catalogue</Link>
      </PageHeader>
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      <ErrorAlert problem={error ? problemOf(error) : null} />
      {!valid && <ErrorAlert problem={{ code: 'NOT_FOUND', message: 'There is no such medication in the catalogue.' }} />}
      {loading && !m && <Loading what="Loading the medication" />}
      {m && (
        <>
          <section className="card mb-4" aria-labelledby="stock-heading">
            <div className="card-body">
              <h2 className="h5 card-title" id="stock-heading">
                Stock
              </h2>
              <p className="fs-5 mb-1" id="stock-level">
                <span className="me-2">{amount(m.stockOnHand, m.unit)} on hand</span>{' '}
                <LowStockBadge low={m.lowStock} />
              </p>
              <p className="mb-0 text-muted">
                {m.lowStock ? `Below the reorder level of ${m.reorderLevel}: reordering is due.` : `At or above the reorder level of ${m.reorderLevel}.`}
              </p>
              <dl className="row mb-0 mt-2">
                <dt className="col-5 col-md-3">Form</dt>
                <dd className="col-7 col-md-9">{FORMS[m.form]}</dd>
                <dt className="col-5 col-md-3">Code</dt>
                <dd className="col-7 col-md-9">{m.code}</dd>
                <dt className="col-5 col-md-3">Lot</dt>
                <dd className="col-7 col-md-9">{m.lot ?? '—'}</dd>
                <dt className="col-5 col-md-3">Expires</dt>
                <dd className="col-7 col-md-9">{m.expiresOn ? localDate(m.expiresOn) : '—'}</dd>
              </dl>
            </div>
          </section>
          {manage && (
            <>
              <section className="mb-4" aria-labelledby="restock-heading">
                <h2 className="h5" id="restock-heading">
                  Restock
                </h2>
                <Restock medication={m} onDone={setNotice} />
              </section>
              <section className="mb-4" aria-labelledby="edit-heading">
                <h2 className="h5" id="edit-heading">
                  Edit details
                </h2>
                <EditMedication key={m.id} medication={m} />
              </section>
            </>
          )}
        </>
      )}
    </section>
  );
}
