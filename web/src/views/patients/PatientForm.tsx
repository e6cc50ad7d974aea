import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import type { PatientDemographicsFragment, RegisterPatientInput, Sex, UpdatePatientInput } from '../../gql/graphql';
import { today } from '../../time';
import { SubmitButton } from '../../ui/buttons';
import { ErrorAlert } from '../../ui/status';
import { useAction } from '../../ui/useAction';
import { cleanPhone, emailProblem, FixFields, inWords, phoneProblem, SelectField, TextAreaField, TextField, TIME_ZONES, type FieldErrors } from './fields';
import { RegisterPatientDocument, UpdatePatientDocument } from './operations';

export const SEX_NAME: Record<Sex, string> = { FEMALE: 'Female', MALE: 'Male', OTHER: 'Other', UNKNOWN: 'Not stated' };

/** Field paths in the graph's messages → the labels on this form. */
const LABELS: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  dateOfBirth: 'Date of birth',
  sex: 'Sex',
  email: 'Email',
  phone: 'Phone',
  timeZone: 'Time zone',
  allergies: 'Allergies',
  address: 'Address',
  'address.line1': 'Address line 1',
  'address.city': 'City',
  'address.postalCode': 'Postal code',
  'address.country': 'Country',
  emergencyContact: 'Emergency contact',
  'emergencyContact.name': 'Emergency contact name',
  'emergencyContact.relationship': 'Emergency contact relationship',
  'emergencyContact.phone': 'Emergency contact phone',
};

interface Values {
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  sex: Sex | '';
  email: string;
  phone: string;
  timeZone: string;
  allergies: string;
  line1: string;
  line2: string;
  city: string;
  postalCode: string;
  country: string;
  contactName: string;
  contactRelationship: string;
  contactPhone: string;
}

function valuesOf(p: PatientDemographicsFragment | undefined): Values {
  return {
    firstName: p?.firstName ?? '',
    lastName: p?.lastName ?? '',
    dateOfBirth: p?.dateOfBirth ?? '',
    sex: p?.sex ?? '',
    email: p?.email ?? '',
    phone: p?.phone ?? '',
    timeZone: p?.timeZone ?? '',
    allergies: p?.allergies.join('\n') ?? '',
    line1: p?.address?.line1 ?? '',
    line2: p?.address?.line2 ?? '',
    city: p?.address?.city ?? '',
    postalCode: p?.address?.postalCode ?? '',
    country: p?.address?.country ?? '',
    contactName: p?.emergencyContact?.name ?? '',
    contactRelationship: p?.emergencyContact?.relationship ?? '',
    contactPhone: p?.emergencyContact?.phone ?? '',
  };
}

function validate(v: Values): FieldErrors {
  const e: FieldErrors = {};
  if (!v.firstName.trim()) e.firstName = 'First name: please enter the first name.';
  if (!v.lastName.trim()) e.lastName = 'Last name: please enter the last name.';
  if (!v.dateOfBirth) e.dateOfBirth = 'Date of birth: please enter the date of birth.';
  else if (v.dateOfBirth > today()) e.dateOfBirth = 'Date of birth cannot be in the future.';
  else if (v.dateOfBirth < '1880-01-01') e.dateOfBirth = 'Date of birth: please check the year.';
  if (!v.sex) e.sex = 'Sex: please choose one (or "Not stated").';
  const email = emailProblem(v.email);
  if (email) e.email = email;
  const phone = phoneProblem(v.phone);
  if (phone) e.phone = phone;
  const anyAddress = [v.line1, v.line2, v.city, v.postalCode, v.country].some((x) => x.trim());
  if (anyAddress) {
    if (!v.line1.trim()) e.line1 = 'Address line 1: needed for an address.';
    if (!v.city.trim()) e.city = 'City: needed for an address.';
    if (!v.postalCode.trim()) e.postalCode = 'Postal code: needed for an address.';
    if (!v.country.trim()) e.country = 'Country: needed for an address.';
  }
  const anyContact = [v.contactName, v.contactRelationship, v.contactPhone].some((x) => x.trim());
  if (anyContact) {
    if (!v.contactName.trim()) e.contactName = 'Emergency contact name: needed for an emergency contact.';
    if (!v.contactRelationship.trim()) e.contactRelationship = 'Relationship: needed for an emergency contact.';
    if (!v.contactPhone.trim()) e.contactPhone = 'Emergency contact phone: needed for an emergency contact.';
    else {
      const p = phoneProblem(v.contactPhone, 'Emergency contact phone');
      if (p) e.contactPhone = p;
    }
  }
  return e;
}

function optional(value: string): string | null {
  const v = value.trim();
  return v ? v : null;
}

function inputOf(v: Values): RegisterPatientInput & UpdatePatientInput {
  const hasAddress = [v.line1, v.city, v.postalCode, v.country].some((x) => x.trim());
  const hasContact = [v.contactName, v.contactRelationship, v.contactPhone].some((x) => x.trim());
  return {
    firstName: v.firstName.trim(),
    lastName: v.lastName.trim(),
    dateOfBirth: v.dateOfBirth,
    sex: v.sex as Sex,
    email: optional(v.email),
    phone: optional(cleanPhone(v.phone)),
    timeZone: optional(v.timeZone),
    allergies: v.allergies
      .split(/\n|,/)
      .map((a) => a.trim())
      .filter(Boolean),
    address: hasAddress ? { line1: v.line1.trim(), line2: optional(v.line2), city: v.city.trim(), postalCode: v.postalCode.trim(), country: v.country.trim() } : null,
    emergencyContact: hasContact ? { name: v.contactName.trim(), relationship: v.contactRelationship.trim(), phone: cleanPhone(v.contactPhone) } : null,
  };
}

/** Register a patient (no `patient`) or edit one: demographics, contact, allergies. */
export function PatientForm({ patient }: { patient?: PatientDemographicsFragment }) {
  const navigate = useNavigate();
  const [values, setValues] = useState<Values>(() => valuesOf(patient));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [register] = useMutation(RegisterPatientDocument);
  const [update] = useMutation(UpdatePatientDocument);
  const save = useAction(async (key: string, input: RegisterPatientInput & UpdatePatientInput) => {
    const context = { idempotencyKey: key };
    if (patient) {
      await update({ variables: { id: patient.id, input }, context });
      await navigate(`/patients/${patient.id}`, { state: { notice: 'Changes saved.' } });
    } else {
      // For a new record only what was given (null would mean "clear").
      const fresh = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null)) as RegisterPatientInput;
      const result = await register({ variables: { input: fresh }, context, refetchQueries: ['PatientsSearch'] });
      const id = result.data?.registerPatient.id;
      await navigate(id ? `/patients/${id}` : '/patients', { state: { notice: 'Patient registered.' } });
    }
  });

  const set = (field: keyof Values) => (event: { target: { value: string } }) => setValues((v) => ({ ...v, [field]: event.target.value }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(values);
    setErrors(found);
    if (Object.keys(found).length === 0) void save.run(inputOf(values));
  };
  const prefix = patient ? 'edit-patient' : 'new-patient';
  const field = (name: keyof Values) => ({ id: `${prefix}-${name}`, value: values[name], onChange: set(name), error: errors[name] });

  return (
    <form id="patient-form" noValidate onSubmit={onSubmit}>
      <FixFields errors={errors} />
      <ErrorAlert problem={inWords(save.problem, LABELS)} />
      <div className="row g-3 mb-4">
        <TextField label="First name" required autoComplete="off" {...field('firstName')} />
        <TextField label="Last name" required autoComplete="off" {...field('lastName')} />
        <TextField label="Date of birth" required type="date" max={today()} {...field('dateOfBirth')} />
        <SelectField label="Sex" required {...field('sex')}>
          <option value="">Choose…</option>
          {(Object.keys(SEX_NAME) as Sex[]).map((s) => (
            <option key={s} value={s}>
              {SEX_NAME[s]}
            </option>
          ))}
        </SelectField>
        <TextField label="Email" type="email" autoComplete="off" {...field('email')} />
        <TextField label="Phone" type="tel" autoComplete="off" hint="With the country code, e.g. +49 30 123456." {...field('phone')} />
        <SelectField label="Time zone for reminders" hint="Leave as is to use the clinic's zone." {...field('timeZone')}>
          <option value="">The clinic's zone</option>
          {TIME_ZONES.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </SelectField>
        <TextAreaField label="Allergies" rows={3} hint="One per line. Leave empty when none are known." col="col-12 col-md-6" {...field('allergies')} />
      </div>
      <fieldset className="mb-4">
        <legend className="h6">Address (optional)</legend>
        <div className="row g-3">
          <TextField label="Address line 1" {...field('line1')} />
          <TextField label="Address line 2" {...field('line2')} />
          <TextField label="City" {...field('city')} col="col-12 col-md-4" />
          <TextField label="Postal code" {...field('postalCode')} col="col-12 col-md-4" />
          <TextField label="Country" {...field('country')} col="col-12 col-md-4" />
        </div>
      </fieldset>
      <fieldset className="mb-4">
        <legend className="h6">Emergency contact (optional)</legend>
        <div className="row g-3">
          <TextField label="Emergency contact name" {...field('contactName')} col="col-12 col-md-4" />
          <TextField label="Relationship" {...field('contactRelationship')} col="col-12 col-md-4" />
          <TextField label="Emergency contact phone" type="tel" {...field('contactPhone')} col="col-12 col-md-4" />
        </div>
      </fieldset>
      <div className="d-flex flex-wrap gap-2">
        <SubmitButton busy={save.busy}>{patient ? 'Save changes' : 'Register patient'}</SubmitButton>
        <Link className="btn btn-outline-secondary" to={patient ? `/patients/${patient.id}` : '/patients'}>
          Cancel
        </Link>
      </div>
    </form>
  );
}
