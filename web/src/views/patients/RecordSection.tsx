import { useState, type ReactNode } from 'react';
import { Empty, Notice } from '../../ui/status';

/**
 * A part of a patient's record that grows (medical history, lab results): its heading (#name-heading),
 * "Add …" for who may add, the form while adding (saved: a notice says so; cancelled: none), then the entries as a
 * card table (#name-table) or the empty state in words.
 */
export function RecordSection({
  name,
  title,
  addLabel,
  added,
  canAdd,
  form,
  emptyText,
  columns,
  rows,
}: {
  name: string;
  title: string;
  addLabel: string;
  /** The notice once the form saved an entry. */
  added: string;
  canAdd: boolean;
  form: (done: { onSaved: () => void; onCancel: () => void }) => ReactNode;
  emptyText: string;
  columns: readonly string[];
  /** One <tr> per entry; none: the empty state. */
  rows: readonly ReactNode[];
}) {
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <section className="mb-4" aria-labelledby={`${name}-heading`}>
      <div className="d-flex flex-wrap align-items-center gap-2 mb-2">
        <h2 className="h5 mb-0 me-auto" id={`${name}-heading`}>
          {title}
        </h2>
        {canAdd && !adding && (
          <button type="button" className="btn btn-sm btn-outline-primary" onClick={() => (setAdding(true), setNotice(null))}>
            {addLabel}
          </button>
        )}
      </div>
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {adding && form({ onSaved: () => (setAdding(false), setNotice(added)), onCancel: () => setAdding(false) })}
      {rows.length === 0 ? (
        <Empty>{emptyText}</Empty>
      ) : (
        <table className="table table-cards align-middle" id={`${name}-table`}>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{rows}</tbody>
        </table>
      )}
    </section>
  );
}
