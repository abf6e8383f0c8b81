// A page bundling the unmodified @medplum/core: MedplumClient's FHIRcast calls, aimed at the
// drop-in hub URL, with no server behind it. Bundled by test/e2e/medplum.spec.ts with Vite.
import { MedplumClient, type FhircastConnection } from '@medplum/core';

const received: any[] = [];
let connection: FhircastConnection | undefined;

(window as any).medplumApp = {
  received,
  async subscribe(hubUrl: string, topic: string, events: string[]) {
    const medplum = new MedplumClient({ baseUrl: 'https://medplum.invalid/', fhircastHubUrl: hubUrl });
    const request = await medplum.fhircastSubscribe(topic, events as any);
    connection = medplum.fhircastConnect(request);
    connection.addEventListener('message', (event: any) => received.push(event.payload));
    await new Promise<void>((resolve) => connection!.addEventListener('connect', () => resolve()));
    return request.endpoint;
  },
  async publish(hubUrl: string, topic: string, patientId: string) {
    const medplum = new MedplumClient({ baseUrl: 'https://medplum.invalid/', fhircastHubUrl: hubUrl });
    return medplum.fhircastPublish(topic, 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: patientId } }]);
  },
  async getContext(hubUrl: string, topic: string) {
    const medplum = new MedplumClient({ baseUrl: 'https://medplum.invalid/', fhircastHubUrl: hubUrl });
    return medplum.fhircastGetContext(topic);
  },
};
