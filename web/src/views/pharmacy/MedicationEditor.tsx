import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { UserMessage } from '../../errors';
import type { MedicationForm, PharmacyMedicationFieldsFragment } from '../../gql/graphql';
import { SubmitButton } from '../../ui/buttons';
import { ErrorAlert, Notice, PageHeader } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { FORM_LIST, FORMS } from './format';
import { PharmacyAddMedicationDocument, PharmacyUpdateMedicationDocument } from './operations';

/** What the catalogue lists: refreshed after any change of a medication (membership may change). */
export const CATALOGUE_QUERIES = ['PharmacyMedications', 'PharmacyLowStock'];

interface Fields {
  name: string;
  form: MedicationForm;
  strength: string;
  code: string;
  unit: string;
  stockOnHand: string;
  reorderLevel: string;
  lot: string;
  expiresOn: string;
}

const EMPTY: Fields = { name: '', form: 'TABLET', strength: '', code: '', unit: 'tablet', stockOnHand: '0', reorderLevel: '10', lot: '', expiresOn: '' };

function fieldsOf(m: PharmacyMedicationFieldsFragment): Fields {
  return {
    name: m.name,
    form: m.form,
    strength: m.strength,
    code: m.code,
    unit: m.unit,
    stockOnHand: String(m.stockOnHand),
    reorderLevel: String(m.reorderLevel),
    lot: m.lot ?? '',
    expiresOn: m.expiresOn ?? '',
  };
}

/** A whole number of 0 or more from a number box, or a message saying what is wrong. */
export function count(text: string, what: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min) throw new UserMessage(`${what} must be a whole number of ${min} or more.`);
  return n;
}

function required(f: Fields): void {
  for (const [key, label] of [
    ['name', 'Name'],
    ['strength', 'Strength'],
    ['code', 'Code'],
    ['unit', 'Unit'],
  ] as const) {
    if (!f[key].trim()) throw new UserMessage(`${label} is required.`);
  }
}

/** The catalogue fields of a medication; `adding` shows the starting stock too. */
function MedicationFields({ f, set, adding, idPrefix }: { f: Fields; set: (f: Fields) => void; adding: boolean; idPrefix: string }) {
  const id = (name: string) => `${idPrefix}-${name}`;
  const text = (name: keyof Fields, label: string, hint?: string, required = true) => (
    <div className="col-12 col-md-6">
      <label className="form-label" htmlFor={id(name)}>
        {label}
      </label>
      <input
        id={id(name)}
        className="form-control"
        value={f[name]}
        required={required}
        aria-describedby={hint ? id(`${name}-hint`) : undefined}
        onChange={(e) => set({ ...f, [name]: e.target.value })}
      />
      {hint && (
        <div className="form-text" id={id(`${name}-hint`)}>
          {hint}
        </div>
      )}
    </div>
  );
  return (
    <div className="row g-3">
      {text('name', 'Name')}
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor={id('kind')}>
          Form
        </label>
        <select id={id('kind')} className="form-select" value={f.form} onChange={(e) => set({ ...f, form: e.target.value as MedicationForm })}>
          {FORM_LIST.map((form) => (
            <option key={form} value={form}>
              {FORMS[form]}
            </option>
          ))}
        </select>
      </div>
      {text('strength', 'Strength', 'Per unit, e.g. 500 mg or 5 mg/ml.')}
      {text('code', 'Code', 'Catalogue code (ATC or the pharmacy’s own); unique.')}
      {text('unit', 'Unit', 'What stock is counted in, e.g. tablet or vial.')}
      {adding && (
        <div className="col-12 col-md-6">
          <label className="form-label" htmlFor={id('stock')}>
            Stock on hand
          </label>
          <input id={id('stock')} className="form-control" type="number" min={0} step={1} inputMode="numeric" value={f.stockOnHand} onChange={(e) => set({ ...f, stockOnHand: e.target.value })} />
        </div>
      )}
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor={id('reorder')}>
          Reorder level
        </label>
        <input
          id={id('reorder')}
          className="form-control"
          type="number"
          min={0}
          step={1}
          inputMode="numeric"
          required
          aria-describedby={id('reorder-hint')}
          value={f.reorderLevel}
          onChange={(e) => set({ ...f, reorderLevel: e.target.value })}
        />
        <div className="form-text" id={id('reorder-hint')}>
          Below this stock the medication is flagged low and reordering is due.
        </div>
      </div>
      {text('lot', 'Lot number (optional)', undefined, false)}
      <div className="col-12 col-md-6">
        <label className="form-label" htmlFor={id('expires')}>
          Expiry date (optional)
        </label>
        <input id={id('expires')} className="form-control" type="date" value={f.expiresOn} onChange={(e) => set({ ...f, expiresOn: e.target.value })} />
      </div>
    </div>
  );
}

/** A new medication of the catalogue; opens it once added. */
export function AddMedication() {
  const navigate = useNavigate();
  const [f, set] = useState<Fields>(EMPTY);
  const [add] = useMutation(PharmacyAddMedicationDocument, { refetchQueries: CATALOGUE_QUERIES });
  const action = useAction(async (key: string, fields: Fields) => {
    required(fields);
    const { data } = await add({
      variables: {
        input: {
          name: fields.name.trim(),
          form: fields.form,
          strength: fields.strength.trim(),
          code: fields.code.trim(),
          unit: fields.unit.trim(),
          stockOnHand: count(fields.stockOnHand, 'Stock on hand'),
          reorderLevel: count(fields.reorderLevel, 'Reorder level'),
          lot: fields.lot.trim() || null,
          expiresOn: fields.expiresOn || null,
        },
      },
      context: { idempotencyKey: key },
    });
    if (data) navigate(`/medications/${data.addMedication.id}`, { state: { notice: `${data.addMedication.name} ${data.addMedication.strength} added to the catalogue.` } });
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(f);
  };
  return (
    <section>
      <PageHeader title="Add medication">
        <Link to="/medications">Back to the catalogue</Link>
      </PageHeader>
      <form onSubmit={submit} id="add-medication-form" noValidate>
        <MedicationFields f={f} set={set} adding idPrefix="add-medication" />
        <ErrorAlert problem={action.problem} onDismiss={action.clear} />
        <div className="mt-3">
          <SubmitButton busy={action.busy}>Add medication</SubmitButton>
        </div>
      </form>
    </section>
  );
}

/** The catalogue fields of an existing medication (stock changes through restock and dispensing). */
export function EditMedication({ medication }: { medication: PharmacyMedicationFieldsFragment }) {
  const [f, set] = useState<Fields>(() => fieldsOf(medication));
  const [saved, setSaved] = useState<string | null>(null);
  const [update] = useMutation(PharmacyUpdateMedicationDocument, { refetchQueries: CATALOGUE_QUERIES });
  const action = useAction(async (key: string, fields: Fields) => {
    required(fields);
    await update({
      variables: {
        id: medication.id,
        input: {
          name: fields.name.trim(),
          form: fields.form,
          strength: fields.strength.trim(),
          code: fields.code.trim(),
          unit: fields.unit.trim(),
          reorderLevel: count(fields.reorderLevel, 'Reorder level'),
          lot: fields.lot.trim() || null,
          expiresOn: fields.expiresOn || null,
        },
      },
      context: { idempotencyKey: key },
    });
    setSaved('Changes saved.');
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    void action.run(f);
  };
  return (
    <form onSubmit={submit} id="edit-medication-form" noValidate>
      <MedicationFields f={f} set={set} adding={false} idPrefix="edit-medication" />
      <ErrorAlert problem={action.problem} onDismiss={action.clear} />
      <Notice text={saved} onDismiss={() => setSaved(null)} />
      <div className="mt-3">
        <SubmitButton busy={action.busy}>Save changes</SubmitButton>
      </div>
    </form>
  );
}
