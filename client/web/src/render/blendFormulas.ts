/**
 * The 27 blend modes as plain functions, the reference the GLSL in blendShaders.ts follows.
 *
 * Blend functions `B(Cb, Cs)` take unpremultiplied backdrop and source colours in 0..1, as
 * collab/render/blend.py defines them: the 16 W3C Compositing and Blending Level 1 modes
 * (Skia's, on the server) and the Photoshop ones (numpy, on the server), with the same edge
 * rules (values within EPS of an edge count as on it). Every mode but dissolve composites with
 * the W3C source-over formula (premultiplied):
 *
 *     co = cs * (1 - ab) + cb * (1 - as) + as * ab * B(Cb, Cs)
 *     ao = as + ab * (1 - as)
 *
 * Dissolve shows the source opaquely where noise(x, y) < as, else the backdrop (dissolve.ts).
 */

import type { BlendMode } from "../document/types";

/** An RGB colour, unpremultiplied, channels in 0..1. */
export type Rgb = readonly [number, number, number];
/** A pixel as four numbers (RGBA). */
export type Rgba = readonly [number, number, number, number];

/** Values within EPS of an edge count as on it (blend.py's EPS). */
export const EPS = 1e-5;

type Channel = (b: number, s: number) => number;
type Whole = (b: Rgb, s: Rgb) => Rgb;

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

export function colorBurn(b: number, s: number): number {
  if (b >= 1 - EPS) return 1;
  if (s <= EPS) return 0;
  return 1 - Math.min(1, (1 - b) / s);
}

export function colorDodge(b: number, s: number): number {
  if (b <= EPS) return 0;
  if (s >= 1 - EPS) return 1;
  return Math.min(1, b / (1 - s));
}

const multiply: Channel = (b, s) => b * s;
const screen: Channel = (b, s) => b + s - b * s;
const hardLight: Channel = (b, s) => (s <= 0.5 ? multiply(b, 2 * s) : screen(b, 2 * s - 1));

function softLight(b: number, s: number): number {
  if (s <= 0.5) return b - (1 - 2 * s) * b * (1 - b);
  const d = b <= 0.25 ? ((16 * b - 12) * b + 4) * b : Math.sqrt(b);
  return b + (2 * s - 1) * (d - b);
}

function divide(b: number, s: number): number {
  if (s <= 0) return b > EPS ? 1 : 0;
  return Math.min(1, b / s);
}

/** Separable modes: one function applied to each channel. */
const SEPARABLE: Partial<Record<BlendMode, Channel>> = {
  normal: (_b, s) => s,
  multiply,
  screen,
  overlay: (b, s) => hardLight(s, b),
  darken: Math.min,
  lighten: Math.max,
  "color-dodge": colorDodge,
  "color-burn": colorBurn,
  "hard-light": hardLight,
  "soft-light": softLight,
  difference: (b, s) => Math.abs(b - s),
  exclusion: (b, s) => b + s - 2 * b * s,
  "linear-burn": (b, s) => Math.max(0, b + s - 1),
  "linear-dodge": (b, s) => Math.min(1, b + s),
  subtract: (b, s) => Math.max(0, b - s),
  divide,
  "vivid-light": (b, s) => (s <= 0.5 ? colorBurn(b, 2 * s) : colorDodge(b, 2 * s - 1)),
  "linear-light": (b, s) => clamp01(b + 2 * s - 1),
  "pin-light": (b, s) => (s <= 0.5 ? Math.min(b, 2 * s) : Math.max(b, 2 * s - 1)),
  "hard-mix": (b, s) => (b + s >= 1 - EPS ? 1 : 0),
};

/** W3C Lum: 0.3 R + 0.59 G + 0.11 B. */
export function lum(c: Rgb): number {
  return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2];
}

function clipColor(c: Rgb): Rgb {
  const l = lum(c);
  const n = Math.min(c[0], c[1], c[2]);
  const x = Math.max(c[0], c[1], c[2]);
  let out: [number, number, number] = [c[0], c[1], c[2]];
  if (n < 0) out = out.map((v) => l + ((v - l) * l) / (l - n)) as [number, number, number];
  if (x > 1) out = out.map((v) => l + ((v - l) * (1 - l)) / (x - l)) as [number, number, number];
  return out;
}

function setLum(c: Rgb, l: number): Rgb {
  const d = l - lum(c);
  return clipColor([c[0] + d, c[1] + d, c[2] + d]);
}

function sat(c: Rgb): number {
  return Math.max(c[0], c[1], c[2]) - Math.min(c[0], c[1], c[2]);
}

/** W3C SetSat: min -> 0, max -> s, mid scaled between (ties give the same values). */
function setSat(c: Rgb, s: number): Rgb {
  const mx = Math.max(c[0], c[1], c[2]);
  const mn = Math.min(c[0], c[1], c[2]);
  if (mx <= mn) return [0, 0, 0];
  return [((c[0] - mn) * s) / (mx - mn), ((c[1] - mn) * s) / (mx - mn), ((c[2] - mn) * s) / (mx - mn)];
}

/** Non-separable modes: functions of the whole colour. */
const WHOLE: Partial<Record<BlendMode, Whole>> = {
  hue: (b, s) => setLum(setSat(s, sat(b)), lum(b)),
  saturation: (b, s) => setLum(setSat(b, sat(s)), lum(b)),
  color: (b, s) => setLum(s, lum(b)),
  luminosity: (b, s) => setLum(b, lum(s)),
  "darker-color": (b, s) => (lum(s) < lum(b) ? s : b),
  "lighter-color": (b, s) => (lum(s) > lum(b) ? s : b),
};

/** `B(Cb, Cs)` of `mode` (any mode but dissolve), unpremultiplied colours in 0..1. */
export function blendColor(mode: BlendMode, b: Rgb, s: Rgb): Rgb {
  const channel = SEPARABLE[mode];
  if (channel) return [channel(b[0], s[0]), channel(b[1], s[1]), channel(b[2], s[2])];
  const whole = WHOLE[mode];
  if (whole) return whole(b, s);
  throw new Error(`${mode} has no blend function (dissolve composites by noise)`);
}

/**
 * One pixel of a layer in `mode` at `opacity` (0..1) over a backdrop pixel: both 8-bit
 * unpremultiplied RGBA; the result is unpremultiplied RGBA in 0..255 (not rounded).
 * Dissolve needs the pixel's `noise` (dissolve.ts).
 */
export function compositePixel(
  mode: BlendMode,
  backdrop: Rgba,
  source: Rgba,
  opacity: number,
  noise?: number,
): Rgba {
  const cb: Rgb = [backdrop[0] / 255, backdrop[1] / 255, backdrop[2] / 255];
  const cs: Rgb = [source[0] / 255, source[1] / 255, source[2] / 255];
  const ab = backdrop[3] / 255;
  const as = (source[3] / 255) * opacity;
  if (mode === "dissolve") {
    if (noise === undefined) throw new Error("dissolve needs the pixel's noise");
    if (noise < as) return [source[0], source[1], source[2], 255];
    return [backdrop[0], backdrop[1], backdrop[2], backdrop[3]];
  }
  const mixed = blendColor(mode, cb, cs);
  const ao = as + ab * (1 - as);
  const out = [0, 0, 0, ao * 255];
  for (let i = 0; i < 3; i++) {
    const co = as * (1 - ab) * cs[i] + as * ab * mixed[i] + (1 - as) * ab * cb[i];
    out[i] = ao > 0 ? (co / ao) * 255 : 0;
  }
  return [out[0], out[1], out[2], out[3]];
}
