// vitals-risk: a BMI and blood-pressure summary from the patient's readings.
//
// An Amanat sample plugin in JavaScript, built with jco componentize
// (componentize-js) against the plugin interface (plugin-sdk/wit/v0.1.0,
// world `plugin`). It reads the current profile's Observations through the
// wallet (`host`), takes the latest blood pressure, weight and height, and
// proposes one FHIR RiskAssessment (saved only if the patient confirms).
//
// A result<T, E> import returns T or throws { payload: E }; an export
// reports failure by throwing { tag, val } of the world's plugin-error.

import { listRecords, readRecord, proposeRecord, log, now } from 'amanat:plugin/host@0.1.0';

const LOINC = 'http://loinc.org';
const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';
const BP_PANEL = ['85354-9', '55284-4'];
const WEIGHT = '29463-7';
const HEIGHT = '8302-2';

function codes(concept) {
  return (concept?.coding ?? []).filter((c) => c.system === LOINC).map((c) => c.code);
}

function when(observation) {
  return observation.effectiveDateTime ?? observation.effectivePeriod?.start ?? observation.issued ?? '';
}

/** The value in the unit wanted (kg, cm), or undefined. */
function quantity(q, unit) {
  if (typeof q?.value !== 'number') return undefined;
  const u = (q.code ?? q.unit ?? '').toLowerCase();
  if (unit === 'kg') return { kg: 1, g: 0.001, '[lb_av]': 0.45359237, lb: 0.45359237 }[u] * q.value;
  if (unit === 'cm') return { cm: 1, m: 100, '[in_i]': 2.54, in: 2.54 }[u] * q.value;
  return q.value;
}

/** The newest reading of each kind, with the record it came from. */
function latest() {
  let summaries;
  try {
    summaries = listRecords('Observation');
  } catch (e) {
    throw { tag: 'denied', val: String(e.payload ?? e) };
  }
  const found = {};
  const keep = (kind, value, observation, id) => {
    if (value === undefined || Number.isNaN(value)) return;
    const at = when(observation);
    if (!found[kind] || at > found[kind].at) found[kind] = { value, at, id };
  };
  for (const summary of summaries) {
    let record;
    try {
      record = readRecord(summary.id);
    } catch (e) {
      log('warn', `could not read ${summary.id}: ${e.payload ?? e}`);
      continue;
    }
    const o = JSON.parse(record.json);
    const mine = codes(o.code);
    if (mine.some((c) => BP_PANEL.includes(c)) || mine.includes(SYSTOLIC)) {
      let sys, dia;
      for (const part of o.component ?? []) {
        if (codes(part.code).includes(SYSTOLIC)) sys = part.valueQuantity?.value;
        if (codes(part.code).includes(DIASTOLIC)) dia = part.valueQuantity?.value;
      }
      if (mine.includes(SYSTOLIC)) sys = o.valueQuantity?.value;
      if (typeof sys === 'number' && typeof dia === 'number') keep('bp', { sys, dia }, o, record.id);
    }
    if (mine.includes(WEIGHT)) keep('weight', quantity(o.valueQuantity, 'kg'), o, record.id);
    if (mine.includes(HEIGHT)) keep('height', quantity(o.valueQuantity, 'cm'), o, record.id);
  }
  return found;
}

/** ACC/AHA 2017 blood pressure categories. */
function bpCategory({ sys, dia }) {
  if (sys > 180 || dia > 120) return 'hypertensive crisis: seek care now';
  if (sys >= 140 || dia >= 90) return 'high blood pressure, stage 2';
  if (sys >= 130 || dia >= 80) return 'high blood pressure, stage 1';
  if (sys >= 120) return 'elevated';
  return 'normal';
}

/** BMI with the WHO cut-offs for Asian adults (WHO expert consultation, 2004). */
function bmiCategory(bmi) {
  if (bmi < 18.5) return 'underweight';
  if (bmi < 23) return 'healthy weight';
  if (bmi < 27.5) return 'overweight (Asian cut-off 23)';
  return 'obese (Asian cut-off 27.5)';
}

export function metadata() {
  return {
    name: 'vitals-risk',
    version: '0.1.0',
    actions: [{
      name: 'summary',
      description: 'Your BMI and blood pressure category from your latest readings',
      takesFile: false,
      takesRecords: false,
    }],
  };
}

export function run(action, input) {
  if (action !== 'summary') {
    throw { tag: 'invalid-input', val: `unknown action '${action}'; this plugin has: summary` };
  }
  const found = latest();
  const lines = [];
  const basis = [];
  if (found.bp) {
    const { sys, dia } = found.bp.value;
    lines.push(`Blood pressure ${sys}/${dia} mmHg (${found.bp.at.slice(0, 10)}): ${bpCategory(found.bp.value)}`);
    basis.push(found.bp.id);
  }
  if (found.weight && found.height) {
    const metres = found.height.value / 100;
    const bmi = Math.round((found.weight.value / (metres * metres)) * 10) / 10;
    lines.push(`BMI ${bmi} (${found.weight.value} kg, ${found.height.value} cm): ${bmiCategory(bmi)}`);
    basis.push(found.weight.id, found.height.id);
  } else if (found.weight) {
    lines.push(`Weight ${found.weight.value} kg; no height on record, so no BMI`);
  }
  if (lines.length === 0) {
    throw { tag: 'failed', val: 'no blood pressure, weight or height readings to summarise' };
  }
  const today = new Date(Number(now()) * 1000).toISOString().slice(0, 10);
  const assessment = {
    resourceType: 'RiskAssessment',
    status: 'final',
    code: { text: 'Blood pressure and weight summary' },
    subject: { display: 'the patient' },
    occurrenceDateTime: today,
    prediction: lines.map((line) => ({ qualitativeRisk: { text: line } })),
    note: [{ text: `Made by the vitals-risk plugin from records ${basis.join(', ')}. Not a diagnosis.` }],
  };
  try {
    proposeRecord(JSON.stringify(assessment));
  } catch (e) {
    throw { tag: 'denied', val: String(e.payload ?? e) };
  }
  log('info', `summarised ${basis.length} reading(s)`);
  return { message: lines.join('\n') };
}
