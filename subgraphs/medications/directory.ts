import DataLoader from 'dataloader';
import { badInput, notFound } from '../../platform/errors';
import type { Identity } from '../../platform/identity';
import type { ServiceClient } from '../../platform/serviceClient';

/** What medications asks the patients and doctors services, over their APIs. */
export class ClinicDirectory {
  constructor(private readonly client: ServiceClient) {}

  async assertPatientExists(id: string, requestId: string): Promise<void> {
    const [patient] = await this.client.entities<{ id: string }>('patients', 'Patient', [id], 'id', requestId);
    if (!patient) throw notFound('Patient', id);
  }

  async assertActiveDoctor(id: string, requestId: string): Promise<void> {
    const [doctor] = await this.client.entities<{ id: string; active: boolean }>('doctors', 'Doctor', [id], 'id active', requestId);
    if (!doctor) throw notFound('Doctor', id);
    if (!doctor.active) throw badInput(`Doctor ${id} is inactive and cannot prescribe`, 'doctorId');
  }

  /**
   * Per request: patientId → whether the calling doctor treats that patient. The patients service
   * owns care relations; one `treats` call answers every patient asked for in the same tick.
   */
  treatsLoader(identity: Identity, requestId: string): DataLoader<string, boolean> {
    return new DataLoader<string, boolean>(async (patientIds) => {
      const { role, doctorId } = identity;
      if (role !== 'DOCTOR' || !doctorId) return patientIds.map(() => false);
      const data = await this.client.query<{ treats: string[] }>(
        'patients',
        'query($d: ObjectID!, $p: [ObjectID!]!) { treats(doctorId: $d, patientIds: $p) }',
        { d: doctorId, p: [...patientIds] },
        requestId,
      );
      const treated = new Set(data.treats);
      return patientIds.map((id) => treated.has(id));
    });
  }
}
