/**
 * Dissolve's noise, exactly as collab/render/blend.py computes it: a per-layer seed (the
 * first 4 bytes of sha256(layer id), little-endian) and murmur3's 32-bit finaliser over
 * (seed, x, y), where x, y are output pixels relative to the layer's origin (rounded).
 * The GLSL twin is in blendShaders.ts (DISSOLVE_NOISE_GLSL).
 */

import { sha256 } from "./sha256";

const seeds = new Map<string, number>();

/** The layer's seed: sha256 of its id (UTF-8), first 4 bytes little-endian (uint32). */
export function dissolveSeed(layerId: string): number {
  let seed = seeds.get(layerId);
  if (seed === undefined) {
    const digest = sha256(new TextEncoder().encode(layerId));
    seed = (digest[0] | (digest[1] << 8) | (digest[2] << 16) | (digest[3] << 24)) >>> 0;
    seeds.set(layerId, seed);
  }
  return seed;
}

/** murmur3's 32-bit finaliser. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The noise in [0, 1) at layer-relative integer pixel (x, y), which may be negative. */
export function dissolveNoise(seed: number, x: number, y: number): number {
  const row = mix32((Math.imul(y >>> 0, 0x9e3779b1) ^ seed) >>> 0);
  const h = mix32((row ^ Math.imul(x >>> 0, 0x85ebca77)) >>> 0);
  return (h >>> 8) / (1 << 24);
}

/** Python's round(): halves go to the even neighbour (the server's layer origin rounding). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
