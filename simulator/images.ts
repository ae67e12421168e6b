/**
 * Station photos of the animal being simulated, drawn as SVG and encoded by sharp. A pig is the
 * top view ml/generate.py trains the shipped model on — a superellipse trunk whose projected area
 * grows as W^(2/3) (every length as (W/100 kg)^(1/3)), a tapered head with ears, a tail stub, a
 * soft shadow, flank shading across the body, on a concrete or slatted floor — so the model's
 * estimate tracks the simulated weight. A broiler gets a plain bird on litter; the pig model does
 * not serve them and its estimate there means nothing.
 */
import sharp from 'sharp';
import type { Draws } from './random';

export const imageWidth = 640;
export const imageHeight = 480;

/** What the photo shows; `half_on` puts the animal partly out of frame, `two_animals` adds another. */
export type PhotoCase = 'normal' | 'half_on' | 'two_animals';

export interface PhotoRequest {
  species: 'broiler' | 'swine';
  weightKg: number;
  photoCase: PhotoCase;
  /** The second animal's weight, for `two_animals`. */
  otherWeightKg?: number;
}

// Pixel geometry of a 100 kg pig at the station camera (ml/generate.py).
const bodyHalfLength100 = 112;
const bodyHalfWidth100 = 50;
const headLength100 = 78;
const headHalfWidth100 = 29;

interface PigShape {
  a: number;
  b: number;
  p: number;
  headLen: number;
  headHw: number;
  headTurn: number;
  skin: [number, number, number];
}

function pigShape(weightKg: number, d: Draws): PigShape {
  const f = Math.cbrt(weightKg / 100);
  const skins: [number, number, number][] = [
    [d.between(205, 240), d.between(160, 195), d.between(145, 180)],
    [d.between(225, 250), d.between(205, 230), d.between(190, 215)],
    [d.between(150, 190), d.between(85, 115), d.between(60, 85)],
  ];
  const pick = d.uniform();
  return {
    a: bodyHalfLength100 * f * Math.exp(d.normal(0, 0.02)),
    b: bodyHalfWidth100 * f * Math.exp(d.normal(0, 0.025)),
    p: d.between(2.3, 3.2),
    headLen: headLength100 * f * Math.exp(d.normal(0, 0.03)),
    headHw: headHalfWidth100 * f * Math.exp(d.normal(0, 0.03)),
    headTurn: d.normal(0, 0.25),
    skin: skins[pick < 0.6 ? 0 : pick < 0.8 ? 1 : 2],
  };
}

const rgb = (c: readonly number[], k = 1) => `rgb(${c.map((v) => Math.round(Math.min(255, Math.max(0, v * k)))).join(',')})`;
const n1 = (v: number) => v.toFixed(1);

/** The trunk outline, |u/a|^p + |v/b|^p = 1, centred on the origin along +u. */
function superellipse(a: number, b: number, p: number): string {
  const pts: string[] = [];
  for (let i = 0; i < 96; i++) {
    const t = (i / 96) * 2 * Math.PI;
    const c = Math.cos(t);
    const s = Math.sin(t);
    pts.push(`${n1(a * Math.sign(c) * Math.abs(c) ** (2 / p))},${n1(b * Math.sign(s) * Math.abs(s) ** (2 / p))}`);
  }
  return `M${pts.join('L')}Z`;
}

/** The pig's body parts in its own frame (origin at the trunk's centre, head toward +x). */
function pigParts(s: PigShape, fill: string): string {
  const hx = s.a * 0.9;
  const turn = (s.headTurn * 180) / Math.PI;
  const ears = [-1, 1]
    .map((side) => `<ellipse cx="${n1(s.headLen * 0.2)}" cy="${n1(side * s.headHw * 0.85)}" rx="${n1(s.headHw * 0.55)}" ry="${n1(s.headHw * 0.38)}"/>`)
    .join('');
  return (
    `<g fill="${fill}">` +
    `<path d="${superellipse(s.a, s.b, s.p)}"/>` +
    `<ellipse cx="${n1(-s.a * 1.02)}" cy="0" rx="${n1(s.a * 0.09)}" ry="${n1(s.b * 0.08)}"/>` +
    `<g transform="translate(${n1(hx)},0) rotate(${n1(turn)})">` +
    `<path d="M0,${n1(-s.headHw)} C${n1(s.headLen * 0.6)},${n1(-s.headHw)} ${n1(s.headLen)},${n1(-s.headHw * 0.45)} ${n1(s.headLen)},0 ` +
    `C${n1(s.headLen)},${n1(s.headHw * 0.45)} ${n1(s.headLen * 0.6)},${n1(s.headHw)} 0,${n1(s.headHw)} Z"/>` +
    ears +
    `</g></g>`
  );
}

/** Farthest reach of the pig from its centre, for placing it in the frame. */
const reach = (s: PigShape) => s.a * 0.9 + s.headLen + 4;

interface Placement {
  cx: number;
  cy: number;
  angleDeg: number;
}

/** Extent of the rotated pig's bounding box (trunk and head) around its centre. */
function halfExtents(s: PigShape, angleDeg: number): { hx: number; hy: number } {
  const t = (angleDeg * Math.PI) / 180;
  const c = Math.abs(Math.cos(t));
  const sn = Math.abs(Math.sin(t));
  const along = reach(s);
  return { hx: along * c + s.b * sn + 6, hy: along * sn + s.b * c + 6 };
}

function place(s: PigShape, d: Draws, photoCase: PhotoCase): Placement {
  const angleDeg = d.between(0, 360);
  const { hx, hy } = halfExtents(s, angleDeg);
  if (photoCase === 'half_on') {
    // About a third to a half of the body past the left or right border.
    const out = d.between(0.35, 0.55) * 2 * hx;
    const left = d.chance(0.5);
    return { cx: left ? hx - out : imageWidth - hx + out, cy: imageHeight / 2 + d.between(-20, 20), angleDeg };
  }
  const spareX = Math.max(0, imageWidth / 2 - hx - 4);
  const spareY = Math.max(0, imageHeight / 2 - hy - 4);
  return { cx: imageWidth / 2 + d.between(-spareX, spareX), cy: imageHeight / 2 + d.between(-spareY, spareY), angleDeg };
}

function pigSvg(s: PigShape, at: Placement, id: string): string {
  const [r, g, b] = s.skin;
  // Top light: the spine brightest, the flanks about a quarter darker (the generator's shade term).
  const grad =
    `<linearGradient id="${id}" x1="0" y1="${n1(-s.b)}" x2="0" y2="${n1(s.b)}" gradientUnits="userSpaceOnUse">` +
    `<stop offset="0" stop-color="${rgb([r, g, b], 0.72)}"/><stop offset="0.5" stop-color="${rgb([r, g, b])}"/>` +
    `<stop offset="1" stop-color="${rgb([r, g, b], 0.72)}"/></linearGradient>`;
  const frame = `translate(${n1(at.cx)},${n1(at.cy)}) rotate(${n1(at.angleDeg)})`;
  return (
    `<defs>${grad}</defs>` +
    `<g transform="translate(5,5) ${frame}" opacity="0.35" filter="url(#shadow)">${pigParts(s, '#000')}</g>` +
    `<g transform="${frame}">${pigParts(s, `url(#${id})`)}</g>`
  );
}

function floorSvg(d: Draws, litter: boolean): string {
  const base = litter ? [d.between(150, 185), d.between(125, 150), d.between(80, 105)] : (Array(3).fill(d.between(95, 150)) as number[]);
  const slats = !litter && d.chance(0.4);
  const period = d.between(28, 60);
  let lines = '';
  if (slats) {
    for (let x = d.between(0, period); x < imageWidth; x += period)
      lines += `<rect x="${n1(x)}" y="0" width="6" height="${imageHeight}" fill="${rgb(base, 0.5)}"/>`;
  }
  return (
    `<rect width="${imageWidth}" height="${imageHeight}" fill="${rgb(base)}"/>` +
    `<rect width="${imageWidth}" height="${imageHeight}" filter="url(#grain)" opacity="0.18"/>` +
    lines
  );
}

function broilerSvg(weightKg: number, d: Draws, at: { cx: number; cy: number; angleDeg: number }): string {
  // A 2.5 kg broiler is about 40 cm long: ~110 px at this camera; lengths as W^(1/3).
  const f = Math.cbrt(weightKg / 2.5);
  const a = 55 * f;
  const b = 36 * f;
  const white = [d.between(230, 250), d.between(225, 245), d.between(210, 230)];
  return (
    `<g transform="translate(${n1(at.cx)},${n1(at.cy)}) rotate(${n1(at.angleDeg)})">` +
    `<ellipse cx="0" cy="0" rx="${n1(a)}" ry="${n1(b)}" fill="${rgb(white)}"/>` +
    `<circle cx="${n1(a * 0.95)}" cy="0" r="${n1(b * 0.45)}" fill="${rgb(white)}"/>` +
    `<circle cx="${n1(a * 1.12)}" cy="0" r="${n1(b * 0.2)}" fill="rgb(200,40,40)"/>` +
    `<path d="M${n1(a * 1.35)},0 l${n1(-b * 0.2)},${n1(-b * 0.1)} v${n1(b * 0.2)} z" fill="rgb(230,170,40)"/>` +
    `</g>`
  );
}

/** The photo's SVG source (exported for tests that check the geometry). */
export function photoSvg(req: PhotoRequest, d: Draws): string {
  const defs =
    `<defs><filter id="shadow"><feGaussianBlur stdDeviation="4"/></filter>` +
    `<filter id="grain"><feTurbulence type="fractalNoise" baseFrequency="0.6" numOctaves="2" seed="${d.int(1, 9999)}"/></filter></defs>`;
  let body = floorSvg(d, req.species === 'broiler');
  if (req.species === 'broiler') {
    const at = { cx: imageWidth / 2 + d.between(-120, 120), cy: imageHeight / 2 + d.between(-80, 80), angleDeg: d.between(0, 360) };
    if (req.photoCase === 'half_on') at.cx = d.chance(0.5) ? 20 : imageWidth - 20;
    body += broilerSvg(req.weightKg, d, at);
    if (req.photoCase === 'two_animals')
      body += broilerSvg(req.otherWeightKg ?? req.weightKg, d, { cx: at.cx > 320 ? 140 : 500, cy: 240, angleDeg: d.between(0, 360) });
  } else {
    const main = pigShape(req.weightKg, d);
    const at = place(main, d, req.photoCase);
    if (req.photoCase !== 'two_animals') {
      body += pigSvg(main, at, 'skin0');
    } else {
      // Two pigs side by side across their body axes, as the generator spaces them (≥ 2.2 × the half-widths),
      // the pair centred where the one pig would stand.
      const other = pigShape(req.otherWeightKg ?? req.weightKg, d);
      const t = (at.angleDeg * Math.PI) / 180;
      const gap = (main.b + other.b) * d.between(1.15, 1.35);
      const [px, py] = [-Math.sin(t) * gap, Math.cos(t) * gap];
      body += pigSvg(main, { ...at, cx: at.cx - px, cy: at.cy - py }, 'skin0');
      body += pigSvg(other, { cx: at.cx + px, cy: at.cy + py, angleDeg: at.angleDeg + d.between(-20, 20) + (d.chance(0.5) ? 180 : 0) }, 'skin1');
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${imageWidth}" height="${imageHeight}">${defs}${body}</svg>`;
}

/** A JPEG of the scene, as a station camera sends it. */
export async function renderPhoto(req: PhotoRequest, d: Draws): Promise<Buffer> {
  return sharp(Buffer.from(photoSvg(req, d)))
    .jpeg({ quality: d.int(70, 90) })
    .toBuffer();
}
