// Draws a synthetic, obviously fake "image" for a study: a few soft shapes that suggest the body
// part and modality, DICOM-style corner annotations, and a watermark. No pixel data is real.
import { accessionOf, bodySiteOf, demographics, modalityOf, mrnOf, patientName, studyTime } from '../shared/fhir.js';

/** A small deterministic PRNG so a study always looks the same. */
function seeded(text) {
  let s = 2166136261;
  for (const ch of text) s = Math.imul(s ^ ch.charCodeAt(0), 16777619) >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const gray = (v, a = 1) => `rgba(${Math.round(v * 255)}, ${Math.round(v * 255)}, ${Math.round(v * 255)}, ${a})`;

function ellipse(ctx, x, y, rx, ry, fill, rotation = 0) {
  ctx.beginPath();
  ctx.ellipse(x, y, Math.max(1, rx), Math.max(1, ry), rotation, 0, Math.PI * 2);
  ctx.fillStyle = fill;
  ctx.fill();
}

function roundRect(ctx, x, y, w, h, r, fill) {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, r);
  ctx.fillStyle = fill;
  ctx.fill();
}

/** Body-part specific anatomy; `t` is the position in the stack (0..1), `rnd` the study's PRNG. */
const ANATOMY = {
  chestAxial(ctx, t, rnd) {
    ellipse(ctx, 256, 262, 200, 140, gray(0.42));
    const lung = 0.75 + 0.25 * Math.sin(t * Math.PI);
    ellipse(ctx, 180, 250, 70 * lung, 100 * lung, gray(0.06));
    ellipse(ctx, 332, 250, 66 * lung, 98 * lung, gray(0.06));
    ellipse(ctx, 262, 255, 48, 58, gray(0.55));
    ellipse(ctx, 256, 372, 24, 22, gray(0.92));
    for (let i = 0; i < 6; i++) ellipse(ctx, 90 + i * 66, 160 + Math.abs(2.5 - i) * 28, 10, 6, gray(0.85));
    if (rnd() > 0.3) ellipse(ctx, 150 + rnd() * 40, 210 + rnd() * 60, 7 + rnd() * 6, 7 + rnd() * 5, gray(0.5));
  },
  chestPA(ctx, t, rnd) {
    ellipse(ctx, 256, 290, 215, 230, gray(0.78));
    ellipse(ctx, 175, 270, 75, 150, gray(0.16));
    ellipse(ctx, 338, 270, 72, 146, gray(0.16));
    ellipse(ctx, 285, 330, 70, 80, gray(0.72));
    roundRect(ctx, 246, 90, 20, 380, 8, gray(0.85, 0.7));
    ctx.lineWidth = 7;
    for (let i = 0; i < 8; i++) {
      ctx.strokeStyle = gray(0.85, 0.45);
      ctx.beginPath();
      ctx.ellipse(256, 140 + i * 34, 185, 60, 0, Math.PI * 0.05, Math.PI * 0.95);
      ctx.stroke();
    }
    ctx.lineWidth = 10;
    ctx.strokeStyle = gray(0.95, 0.8);
    ctx.beginPath(); ctx.moveTo(120, 120); ctx.lineTo(235, 150); ctx.moveTo(392, 120); ctx.lineTo(277, 150); ctx.stroke();
    if (rnd() > 0.5) ellipse(ctx, 150 + rnd() * 30, 330, 30, 22, gray(0.5, 0.7));
  },
  head(ctx, t, rnd, mr) {
    const r = 150 + 40 * Math.sin(t * Math.PI);
    ellipse(ctx, 256, 256, r, r * 1.2, mr ? gray(0.1) : gray(0.97));
    ellipse(ctx, 256, 256, r - 12, r * 1.2 - 12, mr ? gray(0.55) : gray(0.4));
    ellipse(ctx, 256, 256, r - 40, r * 1.2 - 44, mr ? gray(0.62) : gray(0.44));
    const v = 0.6 + 0.4 * Math.sin(t * Math.PI);
    ellipse(ctx, 236, 250, 14 * v, 46 * v, mr ? gray(0.92) : gray(0.15), -0.25);
    ellipse(ctx, 276, 250, 14 * v, 46 * v, mr ? gray(0.92) : gray(0.15), 0.25);
    if (rnd() > 0.4) ellipse(ctx, 300 + rnd() * 40, 200 + rnd() * 60, 10, 9, mr ? gray(0.95) : gray(0.62));
  },
  abdomen(ctx, t, rnd) {
    ellipse(ctx, 256, 262, 215, 160, gray(0.4));
    ellipse(ctx, 170, 230, 95 - 30 * t, 80, gray(0.55));
    ellipse(ctx, 345, 215, 45, 38, gray(0.3));
    ellipse(ctx, 190, 330, 28, 40, gray(0.62));
    ellipse(ctx, 322, 330, 28, 40, gray(0.62));
    ellipse(ctx, 268, 300, 13, 13, gray(0.8));
    ellipse(ctx, 256, 372, 26, 24, gray(0.92));
    if (rnd() > 0.5) ellipse(ctx, 140 + rnd() * 50, 220 + rnd() * 30, 9, 8, gray(0.3));
  },
  spineSagittal(ctx, t) {
    ellipse(ctx, 256, 256, 170, 250, gray(0.3));
    for (let i = 0; i < 6; i++) roundRect(ctx, 205, 40 + i * 78, 90, 62, 10, gray(0.55 + 0.05 * Math.sin(t * 6 + i)));
    for (let i = 0; i < 5; i++) roundRect(ctx, 212, 104 + i * 78, 76, 12, 5, gray(0.8));
    roundRect(ctx, 300, 30, 26, 460, 12, gray(0.9));
  },
  knee(ctx, t) {
    roundRect(ctx, 190, 20, 130, 210, 60, gray(0.45));
    roundRect(ctx, 195, 282, 120, 220, 30, gray(0.45));
    ellipse(ctx, 255, 240, 110, 28, gray(0.25));
    ellipse(ctx, 345, 200, 24, 50 + 10 * t, gray(0.5));
    ellipse(ctx, 255, 256, 60, 8, gray(0.9));
  },
  limbXR(ctx) {
    roundRect(ctx, 160, 0, 80, 300, 30, gray(0.85));
    roundRect(ctx, 270, 0, 70, 300, 30, gray(0.8));
    for (let i = 0; i < 4; i++) roundRect(ctx, 170 + i * 44, 310, 38, 50, 12, gray(0.8));
    for (let i = 0; i < 5; i++) roundRect(ctx, 150 + i * 45, 370, 26, 140, 12, gray(0.78));
  },
  shoulderXR(ctx) {
    ellipse(ctx, 230, 210, 80, 86, gray(0.85));
    roundRect(ctx, 175, 250, 90, 270, 36, gray(0.82));
    ctx.lineWidth = 18; ctx.strokeStyle = gray(0.88);
    ctx.beginPath(); ctx.moveTo(120, 100); ctx.lineTo(420, 60); ctx.stroke();
    ellipse(ctx, 330, 230, 50, 120, gray(0.6, 0.8), 0.4);
  },
  ultrasound(ctx, t, rnd) {
    ctx.save();
    ctx.beginPath(); ctx.moveTo(256, 30); ctx.arc(256, 30, 470, Math.PI * 0.3, Math.PI * 0.7); ctx.closePath();
    const g = ctx.createRadialGradient(256, 30, 20, 256, 30, 470);
    g.addColorStop(0, gray(0.55)); g.addColorStop(0.6, gray(0.35)); g.addColorStop(1, gray(0.12));
    ctx.fillStyle = g; ctx.fill(); ctx.clip();
    for (let i = 0; i < 14; i++) ellipse(ctx, 120 + rnd() * 270, 120 + rnd() * 340, 30, 6, gray(0.6, 0.25), rnd());
    ellipse(ctx, 250 + 30 * Math.sin(t * 3), 290, 62, 44, gray(0.07));
    ellipse(ctx, 250 + 30 * Math.sin(t * 3), 338, 58, 8, gray(0.85, 0.6));
    ctx.restore();
  },
  mammo(ctx, t, rnd) {
    ctx.beginPath(); ctx.moveTo(40, 30); ctx.bezierCurveTo(420, 60, 470, 400, 40, 490); ctx.closePath();
    ctx.fillStyle = gray(0.62); ctx.fill();
    for (let i = 0; i < 18; i++) ellipse(ctx, 70 + rnd() * 220, 110 + rnd() * 290, 40, 10, gray(0.82, 0.35), rnd() * 1.2 - 0.6);
    if (rnd() > 0.3) ellipse(ctx, 200 + rnd() * 80, 170 + rnd() * 80, 12, 11, gray(0.95));
  },
};

function anatomyFor(study) {
  const m = modalityOf(study);
  const site = `${bodySiteOf(study)} ${study.description ?? ''}`.toLowerCase();
  if (m === 'US') return ANATOMY.ultrasound;
  if (m === 'MG') return ANATOMY.mammo;
  if (m === 'CR') {
    if (site.includes('wrist')) return ANATOMY.limbXR;
    if (site.includes('shoulder')) return ANATOMY.shoulderXR;
    return ANATOMY.chestPA;
  }
  if (site.includes('brain') || site.includes('head')) return (ctx, t, rnd) => ANATOMY.head(ctx, t, rnd, m === 'MR');
  if (site.includes('knee')) return ANATOMY.knee;
  if (site.includes('spine')) return ANATOMY.spineSagittal;
  if (site.includes('abdom') || site.includes('liver')) return ANATOMY.abdomen;
  return ANATOMY.chestAxial;
}

/** Orientation markers: sagittal images show anterior left; ultrasound and mammography none. */
function orientation(study) {
  const anatomy = anatomyFor(study);
  if (anatomy === ANATOMY.ultrasound || anatomy === ANATOMY.mammo) return [];
  if (anatomy === ANATOMY.spineSagittal || anatomy === ANATOMY.knee) return ['A', 'P'];
  return ['R', 'L'];
}

/** The series a reader starts with: sagittal for spines and knees, else axial, else the first. */
export function defaultSeries(study) {
  const series = study?.series ?? [];
  const anatomy = study ? anatomyFor(study) : undefined;
  const want = anatomy === ANATOMY.spineSagittal || anatomy === ANATOMY.knee ? 'sagittal' : 'axial';
  return series.find((s) => (s.description ?? '').toLowerCase().includes(want)) ?? series[0];
}

const WINDOWS = { CT: 'W 400 L 40', MR: 'W 1200 L 600', US: 'Gain 52', CR: 'W 4095 L 2047', MG: 'W 3800 L 1900' };

/**
 * Draws the study, or an empty screen with `message`.
 * @param {HTMLCanvasElement} canvas
 * @param {{ study?: any, patient?: any, image?: number, message?: string }} view
 */
export function drawStudy(canvas, { study, patient, image = 1, message }) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const { width, height } = canvas;
  ctx.save();
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, width, height);
  if (!study) {
    ctx.fillStyle = '#6f7d8c';
    ctx.font = '15px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(message ?? 'No study displayed', width / 2, height / 2);
    ctx.restore();
    return;
  }
  const total = defaultSeries(study)?.numberOfInstances ?? 1;
  const t = total > 1 ? (image - 1) / (total - 1) : 0.5;
  ctx.filter = 'blur(1.5px)';
  anatomyFor(study)(ctx, t, seeded(study.id));
  ctx.filter = 'none';
  annotate(ctx, width, height, study, patient, image, total);
  ctx.restore();
}

function annotate(ctx, width, height, study, patient, image, total) {
  const m = modalityOf(study);
  ctx.font = '12px ui-monospace, "DejaVu Sans Mono", monospace';
  ctx.fillStyle = '#d7e3ee';
  ctx.shadowColor = '#000';
  ctx.shadowBlur = 3;
  const lines = (texts, x, y, align, step) => {
    ctx.textAlign = align;
    texts.forEach((text, i) => ctx.fillText(text, x, y + i * step));
  };
  lines([patient ? patientName(patient) : '', patient ? mrnOf(patient) : '', patient ? demographics(patient) : ''], 8, 18, 'left', 15);
  lines(['Riverside Imaging (synthetic)', `Acc ${accessionOf(study)}`, studyTime(study.started)], width - 8, 18, 'right', 15);
  const series = defaultSeries(study);
  lines([`Se ${series?.number ?? 1}: ${series?.description ?? ''}`, `Im ${image}/${total}`], 8, height - 24, 'left', 15);
  lines([(study.description ?? m).slice(0, 40), WINDOWS[m] ?? ''], width - 8, height - 24, 'right', 15);
  const [left, right] = orientation(study);
  if (left) {
    ctx.font = 'bold 14px system-ui, sans-serif';
    lines([left], 10, height / 2, 'left', 0);
    lines([right], width - 10, height / 2, 'right', 0);
  }
  ctx.shadowBlur = 0;
  ctx.font = 'bold 11px system-ui, sans-serif';
  ctx.fillStyle = 'rgba(255, 190, 80, 0.85)';
  ctx.textAlign = 'center';
  ctx.fillText('SYNTHETIC IMAGE · NOT FOR DIAGNOSIS', width / 2, height - 8);
}
