// The benchmark's FHIRcast payloads. Plain ESM: the bench pages import it from /bench/ and node
// imports it from disk, so page and server paths send byte-identical events.

const patient = {
  resourceType: 'Patient',
  id: 'pt-bench-0042',
  identifier: [
    { use: 'official', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:oid:2.16.840.1.113883.19.5', value: 'MRN-00420042' },
  ],
  name: [{ use: 'official', family: 'Lindqvist', given: ['Astrid', 'Maria'] }],
  gender: 'female',
  birthDate: '1961-04-17',
};

const encounter = {
  resourceType: 'Encounter',
  id: 'enc-bench-7781',
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.9', value: 'ENC-2025-7781' }],
  status: 'in-progress',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
  subject: { reference: 'Patient/pt-bench-0042' },
  period: { start: '2025-03-02T08:40:00Z' },
};

const study = {
  resourceType: 'ImagingStudy',
  id: 'st-bench-1.2.840.113619.2.55.3',
  identifier: [
    { system: 'urn:dicom:uid', value: 'urn:oid:1.2.840.113619.2.55.3.604688119.969.1268071029.320' },
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: 'ACC-55120931' },
  ],
  status: 'available',
  modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }],
  subject: { reference: 'Patient/pt-bench-0042' },
  encounter: { reference: 'Encounter/enc-bench-7781' },
  started: '2025-03-02T08:52:31Z',
  numberOfSeries: 4,
  numberOfInstances: 612,
  procedureCode: [{ coding: [{ system: 'http://loinc.org', code: '24627-2', display: 'CT Chest' }], text: 'CT chest with contrast' }],
  reasonCode: [{ text: 'Follow-up of pulmonary nodule, right upper lobe, 8 mm on prior exam' }],
  description: 'CT CHEST W CONTRAST',
  series: [
    { uid: '1.2.840.113619.2.55.3.604688119.969.1268071029.321', number: 1, modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }, description: 'Scout', numberOfInstances: 2 },
    { uid: '1.2.840.113619.2.55.3.604688119.969.1268071029.322', number: 2, modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }, description: 'Axial 1.25 mm', numberOfInstances: 410 },
  ],
};

/** The ~2 KB `ImagingStudy-open` request of every latency, burst and fan-out figure (without `hub.topic`). */
export function imagingStudyOpen(id) {
  return {
    id,
    'hub.event': 'ImagingStudy-open',
    context: [
      { key: 'study', resource: study },
      { key: 'encounter', resource: encounter },
      { key: 'patient', resource: patient },
    ],
  };
}

/** The same event as the full STU3 notification frame a subscriber receives (what the floor relays). */
export function imagingStudyNotification(topic, id) {
  const { context } = imagingStudyOpen(id);
  return {
    timestamp: '2025-03-02T09:15:00.120Z',
    id,
    event: { 'hub.topic': topic, 'hub.event': 'ImagingStudy-open', context, 'context.versionId': 'AAAAAAAAAAAAAAAAAAAAAA' },
  };
}

export const REPORT_ID = 'dr-bench-1';

/** The `DiagnosticReport-open` that anchors the content-sharing run. */
export function diagnosticReportOpen(id) {
  return {
    id,
    'hub.event': 'DiagnosticReport-open',
    context: [
      { key: 'report', resource: { resourceType: 'DiagnosticReport', id: REPORT_ID, status: 'preliminary', code: { text: 'CT chest report' }, subject: { reference: 'Patient/pt-bench-0042' } } },
      { key: 'study', resource: study },
      { key: 'patient', resource: patient },
    ],
  };
}

/**
 * The n-th `DiagnosticReport-update`: a transaction Bundle of 20 PUTs of Observations with fresh ids,
 * so the report's shared content grows by 20 resources per update (2,000 after 100).
 */
export function diagnosticReportUpdate(id, n, versionId) {
  const entry = [];
  for (let i = 0; i < 20; i++) {
    const obsId = `obs-${n}-${i}`;
    entry.push({
      fullUrl: `Observation/${obsId}`,
      request: { method: 'PUT', url: `Observation/${obsId}` },
      resource: {
        resourceType: 'Observation',
        id: obsId,
        status: 'preliminary',
        code: { coding: [{ system: 'http://loinc.org', code: '21889-1', display: 'Size Tumor' }], text: `lesion ${n}.${i} size` },
        subject: { reference: 'Patient/pt-bench-0042' },
        valueQuantity: { value: 4 + ((n * 20 + i) % 17) / 2, unit: 'mm', system: 'http://unitsofmeasure.org', code: 'mm' },
      },
    });
  }
  return {
    id,
    'hub.event': 'DiagnosticReport-update',
    'context.versionId': versionId,
    context: [
      { key: 'report', reference: { reference: `DiagnosticReport/${REPORT_ID}` } },
      { key: 'patient', reference: { reference: 'Patient/pt-bench-0042' } },
      { key: 'updates', resource: { resourceType: 'Bundle', id: `ub-${n}`, type: 'transaction', entry } },
    ],
  };
}
