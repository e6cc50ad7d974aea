import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import type { DoctorProfileFragment } from '../../gql/graphql';
import { getClinicZone } from '../../time';
import { SubmitButton } from '../../ui/buttons';
import { ErrorAlert, Notice } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { cleanPhone, emailProblem, FixFields, inWords, phoneProblem, SelectField, TextField, TIME_ZONES, type FieldErrors } from '../patients/fields';
import { CreateDoctorDocument, DoctorSpecialtiesDocument, UpdateDoctorDocument } from './operations';

const LABELS: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  specialty: 'Specialty',
  email: 'Email',
  phone: 'Phone',
  timeZone: 'Time zone',
};

interface Values {
  firstName: string;
  lastName: string;
  specialty: string;
  email: string;
  phone: string;
  timeZone: string;
}

function validate(v: Values): FieldErrors {
  const e: FieldErrors = {};
  if (!v.firstName.trim()) e.firstName = 'First name: please enter the first name.';
  if (!v.lastName.trim()) e.lastName = 'Last name: please enter the last name.';
  if (!v.specialty.trim()) e.specialty = 'Specialty: pick one from the list or type a new one.';
  const email = emailProblem(v.email);
  if (email) e.email = email;
  const phone = phoneProblem(v.phone);
  if (phone) e.phone = phone;
  if (!v.timeZone) e.timeZone = 'Time zone: please choose the zone the doctor works in.';
  return e;
}

/** Create a doctor (no `doctor`) or edit one's details. */
export function DoctorForm({ doctor }: { doctor?: DoctorProfileFragment }) {
  const navigate = useNavigate();
  const specialties = useQuery(DoctorSpecialtiesDocument);
  const [values, setValues] = useState<Values>({
    firstName: doctor?.firstName ?? '',
    lastName: doctor?.lastName ?? '',
    specialty: doctor?.specialty ?? '',
    email: doctor?.email ?? '',
    phone: doctor?.phone ?? '',
    timeZone: doctor?.timeZone ?? (TIME_ZONES.includes(getClinicZone()) ? getClinicZone() : ''),
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [create] = useMutation(CreateDoctorDocument);
  const [update] = useMutation(UpdateDoctorDocument);
  const save = useAction(async (key: string, v: Values) => {
    const context = { idempotencyKey: key };
    const base = { firstName: v.firstName.trim(), lastName: v.lastName.trim(), specialty: v.specialty.trim(), timeZone: v.timeZone };
    const email = v.email.trim() || null;
    const phone = cleanPhone(v.phone) || null;
    if (doctor) {
      await update({ variables: { id: doctor.id, input: { ...base, email, phone } }, context, refetchQueries: ['DoctorSpecialties'] });
      setSaved('Details saved.');
    } else {
      const result = await create({
        variables: { input: { ...base, ...(email ? { email } : {}), ...(phone ? { phone } : {}) } },
        context,
        refetchQueries: ['DoctorsList', 'DoctorSpecialties'],
      });
      const id = result.data?.createDoctor.id;
      await navigate(id ? `/doctors/${id}` : '/doctors', { state: { notice: 'Doctor created. Add their weekly schedule below so patients can book.' } });
    }
  });
  const set = (field: keyof Values) => (event: { target: { value: string } }) => {
    setSaved(null);
    setValues((v) => ({ ...v, [field]: event.target.value }));
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(values);
    setErrors(found);
    if (Object.keys(found).length === 0) void save.run(values);
  };
  const prefix = doctor ? 'edit-doctor' : 'new-doctor';
  const field = (name: keyof Values) => ({ id: `${prefix}-${name}`, value: values[name], onChange: set(name), error: errors[name] });
  return (
    <form id="doctor-form" noValidate onSubmit={onSubmit} aria-label={doctor ? 'Doctor details' : 'New doctor'}>
      <FixFields errors={errors} />
      <ErrorAlert problem={inWords(save.problem, LABELS)} />
      <Notice text={saved} onDismiss={() => setSaved(null)} />
      <div className="row g-3 mb-3">
        <TextField label="First name" required autoComplete="off" {...field('firstName')} />
        <TextField label="Last name" required autoComplete="off" {...field('lastName')} />
        <TextField label="Specialty" required autoComplete="off" list={`${prefix}-specialties`} hint="Pick one of the clinic's specialties or type a new one." {...field('specialty')} />
        <datalist id={`${prefix}-specialties`}>
          {(specialties.data?.specialties ?? []).map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <SelectField label="Time zone" required hint="The weekly schedule is written in this zone." {...field('timeZone')}>
          <option value="">Choose…</option>
          {TIME_ZONES.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </SelectField>
        <TextField label="Email" type="email" autoComplete="off" {...field('email')} />
        <TextField label="Phone" type="tel" autoComplete="off" hint="With the country code, e.g. +49 30 123456." {...field('phone')} />
      </div>
      <div className="d-flex flex-wrap gap-2">
        <SubmitButton busy={save.busy}>{doctor ? 'Save details' : 'Create doctor'}</SubmitButton>
        {!doctor && (
          <Link className="btn btn-outline-secondary" to="/doctors">
            Cancel
          </Link>
        )}
      </div>
    </form>
  );
}
