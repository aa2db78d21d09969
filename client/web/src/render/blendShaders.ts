/**
 * GLSL ES 3.00 (highp) sources of the compositing passes: the 27 blend modes written from the
 * same formulas as blendFormulas.ts (which the shared test vectors check), never Pixi's own
 * blend modes. Every pass draws a box of a render target and reads its inputs with texelFetch
 * at `gl_FragCoord` (exact pixel centres): no varyings, no filtering by the GPU.
 *
 * Textures hold premultiplied RGBA (a layer texture may be straight alpha: `uStraight`).
 */

import type { BlendMode } from "../document/types";

/** The quad: a unit square mapped to `uBox` (target pixels) of a `uTargetSize` target. */
export const VERTEX = `#version 300 es
precision highp float;
in vec2 aPosition;
uniform vec4 uBox;
uniform vec2 uTargetSize;
void main() {
  vec2 pixel = mix(uBox.xy, uBox.zw, aPosition);
  gl_Position = vec4(pixel / uTargetSize * 2.0 - 1.0, 0.0, 1.0);
}
`;

const HEADER = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
out vec4 finalColor;
uniform vec2 uSourceOffset;   // source pixel = target pixel + uSourceOffset

vec2 sourcePixel() { return gl_FragCoord.xy + uSourceOffset; }

vec3 unpremultiply(vec4 c) { return min(c.rgb / max(c.a, 1e-30), vec3(1.0)); }
`;

/** Copies `uSource` (premultiplied) into the box. */
export const COPY_FRAGMENT = `${HEADER}
uniform sampler2D uSource;
void main() { finalColor = texelFetch(uSource, ivec2(sourcePixel()), 0); }
`;

/** Fills the box with `uColor` (premultiplied). */
export const FILL_FRAGMENT = `${HEADER}
uniform vec4 uColor;
void main() { finalColor = uColor; }
`;

/** 8-bit, unpremultiplied output (compositor.to_rgba8 of the server: round half to even). */
export const OUTPUT_FRAGMENT = `${HEADER}
uniform sampler2D uSource;
void main() {
  vec4 c = texelFetch(uSource, ivec2(sourcePixel()), 0);
  float a = clamp(c.a, 0.0, 1.0);
  vec3 rgb = clamp(c.rgb / max(a, 1e-30), 0.0, 1.0);
  finalColor = roundEven(vec4(rgb, a) * 255.0) / 255.0;
}
`;

const LAYER_SAMPLING = `
uniform sampler2D uLayer;
uniform vec4 uLayerRect;   // the layer texture's top-left and size in target-source pixels
uniform float uStraight;   // 1: the layer texture is not premultiplied
uniform float uOpacity;

vec4 layerTexel(ivec2 p) {
  return texelFetch(uLayer, clamp(p, ivec2(0), textureSize(uLayer, 0) - 1), 0);
}

// Skia's drawImage of a translated image: bilinear (clamped at the edges) at the pixel centre,
// interpolating the texels as stored (Skia premultiplies an unpremultiplied image after
// sampling), times the pixel's coverage by the image rectangle. At an integer offset this is
// the texel itself.
vec4 layerSample(vec2 pixel) {
  vec2 local = pixel - uLayerRect.xy;
  vec2 covered = clamp(min(local + 0.5, uLayerRect.zw) - max(local - 0.5, vec2(0.0)), 0.0, 1.0);
  float coverage = covered.x * covered.y;
  if (coverage <= 0.0) return vec4(0.0);
  vec2 t = local - 0.5;
  vec2 f = floor(t);
  vec2 w = t - f;
  ivec2 i = ivec2(f);
  vec4 c = layerTexel(i);
  if (w.x > 0.0 || w.y > 0.0) {
    vec4 top = mix(c, layerTexel(i + ivec2(1, 0)), w.x);
    vec4 bottom = mix(layerTexel(i + ivec2(0, 1)), layerTexel(i + ivec2(1, 1)), w.x);
    c = mix(top, bottom, w.y);
  }
  if (uStraight > 0.5) c.rgb *= c.a;
  return c * coverage;
}
`;

/** Separable blend functions of one channel (b = backdrop, s = source, unpremultiplied). */
const CHANNEL: Partial<Record<BlendMode, string>> = {
  normal: "return s;",
  multiply: "return b * s;",
  screen: "return b + s - b * s;",
  overlay: "return hardLight(s, b);",
  darken: "return min(b, s);",
  lighten: "return max(b, s);",
  "color-dodge": "return colorDodge(b, s);",
  "color-burn": "return colorBurn(b, s);",
  "hard-light": "return hardLight(b, s);",
  "soft-light": `if (s <= 0.5) return b - (1.0 - 2.0 * s) * b * (1.0 - b);
    float d = b <= 0.25 ? ((16.0 * b - 12.0) * b + 4.0) * b : sqrt(b);
    return b + (2.0 * s - 1.0) * (d - b);`,
  difference: "return abs(b - s);",
  exclusion: "return b + s - 2.0 * b * s;",
  "linear-burn": "return max(0.0, b + s - 1.0);",
  "linear-dodge": "return min(1.0, b + s);",
  subtract: "return max(0.0, b - s);",
  divide: "if (s <= 0.0) return b > EPS ? 1.0 : 0.0; return min(1.0, b / s);",
  "vivid-light": "return s <= 0.5 ? colorBurn(b, 2.0 * s) : colorDodge(b, 2.0 * s - 1.0);",
  "linear-light": "return clamp(b + 2.0 * s - 1.0, 0.0, 1.0);",
  "pin-light": "return s <= 0.5 ? min(b, 2.0 * s) : max(b, 2.0 * s - 1.0);",
  "hard-mix": "return b + s >= 1.0 - EPS ? 1.0 : 0.0;",
};

/** Non-separable blend functions of the whole colour. */
const WHOLE: Partial<Record<BlendMode, string>> = {
  hue: "return setLum(setSat(s, sat(b)), lum(b));",
  saturation: "return setLum(setSat(b, sat(s)), lum(b));",
  color: "return setLum(s, lum(b));",
  luminosity: "return setLum(b, lum(s));",
  "darker-color": "return lum(s) < lum(b) ? s : b;",
  "lighter-color": "return lum(s) > lum(b) ? s : b;",
};

const HELPERS = `
const float EPS = 1e-5;
float colorBurn(float b, float s) {
  if (b >= 1.0 - EPS) return 1.0;
  if (s <= EPS) return 0.0;
  return 1.0 - min(1.0, (1.0 - b) / s);
}
float colorDodge(float b, float s) {
  if (b <= EPS) return 0.0;
  if (s >= 1.0 - EPS) return 1.0;
  return min(1.0, b / (1.0 - s));
}
float hardLight(float b, float s) {
  if (s <= 0.5) return b * 2.0 * s;
  float t = 2.0 * s - 1.0;
  return b + t - b * t;
}
float lum(vec3 c) { return 0.3 * c.r + 0.59 * c.g + 0.11 * c.b; }
vec3 clipColor(vec3 c) {
  float l = lum(c);
  float n = min(min(c.r, c.g), c.b);
  float x = max(max(c.r, c.g), c.b);
  if (n < 0.0) c = l + (c - l) * l / (l - n);
  if (x > 1.0) c = l + (c - l) * (1.0 - l) / (x - l);
  return c;
}
vec3 setLum(vec3 c, float l) { return clipColor(c + (l - lum(c))); }
float sat(vec3 c) { return max(max(c.r, c.g), c.b) - min(min(c.r, c.g), c.b); }
vec3 setSat(vec3 c, float s) {
  float mx = max(max(c.r, c.g), c.b);
  float mn = min(min(c.r, c.g), c.b);
  if (mx <= mn) return vec3(0.0);
  return (c - mn) * s / (mx - mn);
}
`;

function blendFunction(mode: BlendMode): string {
  const channel = CHANNEL[mode];
  if (channel !== undefined) {
    return `float blendChannel(float b, float s) {
  ${channel}
}
vec3 blendColor(vec3 b, vec3 s) {
  return vec3(blendChannel(b.r, s.r), blendChannel(b.g, s.g), blendChannel(b.b, s.b));
}`;
  }
  const whole = WHOLE[mode];
  if (whole !== undefined) return `vec3 blendColor(vec3 b, vec3 s) {\n  ${whole}\n}`;
  throw new Error(`no blend function for ${mode}`);
}

/** Source-over with blending (W3C general formula), the layer's opacity applied to its alpha. */
export function blendFragment(mode: BlendMode): string {
  if (mode === "dissolve") return DISSOLVE_FRAGMENT;
  return `${HEADER}
uniform sampler2D uBackdrop;
${LAYER_SAMPLING}
${HELPERS}
${blendFunction(mode)}
void main() {
  vec2 pixel = sourcePixel();
  vec4 dst = texelFetch(uBackdrop, ivec2(pixel), 0);
  vec4 src = layerSample(pixel);
  float sa = src.a * uOpacity;
  if (sa <= 0.0) {
    finalColor = dst;
    return;
  }
  vec3 mixed = blendColor(unpremultiply(dst), unpremultiply(src));
  float da = dst.a;
  vec3 co = src.rgb * (uOpacity * (1.0 - da)) + dst.rgb * (1.0 - sa) + mixed * (sa * da);
  finalColor = vec4(co, sa + da * (1.0 - sa));
}
`;
}

/** blend.dissolve_noise: murmur3's finaliser over (seed, x, y), in [0, 1). */
const DISSOLVE_NOISE = `
uniform uint uSeed;
uniform vec2 uOrigin;   // the layer's origin, rounded (Python round) to whole pixels
uint mix32(uint h) {
  h ^= h >> 16u;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13u;
  h *= 0xC2B2AE35u;
  h ^= h >> 16u;
  return h;
}
uint bits(int v) { return v < 0 ? uint(v + 2147483647 + 1) | 0x80000000u : uint(v); }
float dissolveNoise(ivec2 p) {
  uint row = mix32((bits(p.y) * 0x9E3779B1u) ^ uSeed);
  uint h = mix32(row ^ (bits(p.x) * 0x85EBCA77u));
  return float(h >> 8u) * (1.0 / 16777216.0);
}
`;

const DISSOLVE_FRAGMENT = `${HEADER}
uniform sampler2D uBackdrop;
${LAYER_SAMPLING}
${DISSOLVE_NOISE}
void main() {
  vec2 pixel = sourcePixel();
  vec4 dst = texelFetch(uBackdrop, ivec2(pixel), 0);
  vec4 src = layerSample(pixel);
  float noise = dissolveNoise(ivec2(floor(pixel)) - ivec2(uOrigin));
  finalColor = noise < src.a * uOpacity ? vec4(unpremultiply(src), 1.0) : dst;
}
`;
