/**
 * The GPU passes of the compositor, drawn with Pixi v8's WebGL renderer (its render targets,
 * shader and state systems) but with the project's own programs (blendShaders.ts): one quad
 * per pass over a box of a render target, blending disabled, every output pixel written by the
 * shader. Nothing here uses Pixi's blend modes or filters.
 */

import {
  Geometry,
  GlProgram,
  Shader,
  State,
  Texture,
  type TextureSource,
  type UniformData,
  UniformGroup,
  type WebGLRenderer,
} from "pixi.js";
import type { BlendMode } from "../document/types";
import { blendFragment, COPY_FRAGMENT, FILL_FRAGMENT, OUTPUT_FRAGMENT, VERTEX } from "./blendShaders";

/** A box of target pixels: left, top, right, bottom (integers). */
export type Box = readonly [number, number, number, number];

/** How a layer's texture lies in the document and blends. */
export interface LayerDraw {
  readonly mode: BlendMode;
  /** 0..1 */
  readonly opacity: number;
  readonly texture: TextureSource;
  /** true when the texture holds straight (not premultiplied) alpha */
  readonly straight: boolean;
  /** the texture's top-left in document pixels (may be fractional) and its size */
  readonly rect: readonly [number, number, number, number];
  /** dissolve: the layer's seed and its origin rounded as the server rounds it */
  readonly seed: number;
  readonly origin: readonly [number, number];
}

const TEXTURE_INPUTS = ["uBackdrop", "uLayer", "uSource"] as const;

interface PassUniforms {
  uBox: Float32Array;
  uTargetSize: Float32Array;
  uSourceOffset: Float32Array;
}

function passUniforms(extra: Record<string, UniformData>): UniformGroup {
  return new UniformGroup({
    uBox: { value: new Float32Array(4), type: "vec4<f32>" },
    uTargetSize: { value: new Float32Array(2), type: "vec2<f32>" },
    uSourceOffset: { value: new Float32Array(2), type: "vec2<f32>" },
    ...extra,
  });
}

function program(fragment: string, name: string): GlProgram {
  return GlProgram.from({ vertex: VERTEX, fragment, name, preferredFragmentPrecision: "highp" });
}

/** Owns the quad, the programs (compiled on first use) and draws the passes. */
export class Passes {
  private readonly quad = new Geometry({
    attributes: { aPosition: { buffer: new Float32Array([0, 0, 1, 0, 1, 1, 0, 1]), format: "float32x2" } },
    indexBuffer: new Uint16Array([0, 1, 2, 0, 2, 3]),
  });
  private readonly state = new State();
  private readonly blendShaders = new Map<BlendMode, Shader>();
  private copyShader: Shader | null = null;
  private fillShader: Shader | null = null;
  private outputShader: Shader | null = null;

  constructor(private readonly renderer: WebGLRenderer) {
    this.quad.autoGarbageCollect = false;
    this.state.blend = false;
    this.state.depthTest = false;
    this.state.culling = false;
  }

  /** Fill `box` of `target` with a premultiplied colour. */
  fill(target: TextureSource, box: Box, color: readonly [number, number, number, number]): void {
    this.fillShader ??= new Shader({
      glProgram: program(FILL_FRAGMENT, "nexus-fill"),
      resources: { passUniforms: passUniforms({ uColor: { value: new Float32Array(4), type: "vec4<f32>" } }) },
    });
    const uniforms = this.uniformsOf(this.fillShader);
    (uniforms.uniforms.uColor as Float32Array).set(color);
    this.draw(this.fillShader, target, box, [0, 0]);
  }

  /** Copy `box` of `source` into the same box of `target` (shifted by `offset` in the source). */
  copy(source: TextureSource, target: TextureSource, box: Box, offset: readonly [number, number] = [0, 0]): void {
    this.copyShader ??= new Shader({
      glProgram: program(COPY_FRAGMENT, "nexus-copy"),
      resources: { uSource: source, passUniforms: passUniforms({}) },
    });
    this.copyShader.resources.uSource = source;
    this.draw(this.copyShader, target, box, offset);
  }

  /** 8-bit unpremultiplied pixels of `source` (offset by `offset`) into the whole `target`. */
  output(source: TextureSource, target: TextureSource, offset: readonly [number, number]): void {
    this.outputShader ??= new Shader({
      glProgram: program(OUTPUT_FRAGMENT, "nexus-output"),
      resources: { uSource: source, passUniforms: passUniforms({}) },
    });
    this.outputShader.resources.uSource = source;
    this.draw(this.outputShader, target, [0, 0, target.pixelWidth, target.pixelHeight], offset);
  }

  /** Blend `layer` over `backdrop` into `box` of `target` (target and backdrop: same pixel grid). */
  blend(backdrop: TextureSource, target: TextureSource, box: Box, layer: LayerDraw): void {
    const shader = this.blendShader(layer.mode);
    shader.resources.uBackdrop = backdrop;
    shader.resources.uLayer = layer.texture;
    const values = this.layerUniformsOf(shader).uniforms;
    (values.uLayerRect as Float32Array).set(layer.rect);
    values.uStraight = layer.straight ? 1 : 0;
    values.uOpacity = layer.opacity;
    if (layer.mode === "dissolve") {
      values.uSeed = layer.seed >>> 0;
      (values.uOrigin as Float32Array).set(layer.origin);
    }
    this.draw(shader, target, box, [0, 0]);
  }

  destroy(): void {
    for (const shader of this.blendShaders.values()) shader.destroy();
    this.copyShader?.destroy();
    this.fillShader?.destroy();
    this.outputShader?.destroy();
    this.quad.destroy();
  }

  private blendShader(mode: BlendMode): Shader {
    let shader = this.blendShaders.get(mode);
    if (!shader) {
      const layerUniforms: Record<string, UniformData> = {
        uLayerRect: { value: new Float32Array(4), type: "vec4<f32>" },
        uStraight: { value: 0, type: "f32" },
        uOpacity: { value: 1, type: "f32" },
      };
      if (mode === "dissolve") {
        layerUniforms.uSeed = { value: 0, type: "u32" };
        layerUniforms.uOrigin = { value: new Float32Array(2), type: "vec2<f32>" };
      }
      shader = new Shader({
        glProgram: program(blendFragment(mode), `nexus-blend-${mode}`),
        resources: {
          uBackdrop: Texture.EMPTY.source,
          uLayer: Texture.EMPTY.source,
          passUniforms: passUniforms({}),
          layerUniforms: new UniformGroup(layerUniforms),
        },
      });
      this.blendShaders.set(mode, shader);
    }
    return shader;
  }

  private uniformsOf(shader: Shader): UniformGroup {
    return shader.resources.passUniforms as UniformGroup;
  }

  private layerUniformsOf(shader: Shader): UniformGroup {
    return shader.resources.layerUniforms as UniformGroup;
  }

  private draw(shader: Shader, target: TextureSource, box: Box, offset: readonly [number, number]): void {
    const uniforms = this.uniformsOf(shader);
    const values = uniforms.uniforms as unknown as PassUniforms;
    values.uBox.set(box);
    values.uTargetSize[0] = target.pixelWidth;
    values.uTargetSize[1] = target.pixelHeight;
    values.uSourceOffset.set(offset);
    uniforms.update();
    const extra = shader.resources.layerUniforms as UniformGroup | undefined;
    extra?.update();
    const renderer = this.renderer;
    renderer.renderTarget.bind({ target, clear: false });
    renderer.encoder.draw({ geometry: this.quad, shader, state: this.state, topology: "triangle-list" });
    // Let go of the inputs: a texture may be destroyed before the next pass (Pixi warns if a
    // destroyed texture is still held by a shader).
    for (const name of TEXTURE_INPUTS) {
      if (name in shader.resources) shader.resources[name] = Texture.EMPTY.source;
    }
  }
}
