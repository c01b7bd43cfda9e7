/**
 * The configurations of Google's SigLIP and SigLIP 2 checkpoints (as their config.json and preprocessor_config.json
 * state them), so benchmarks and `synth` can make full-size models without downloading anything. Each preset is
 * named as its hub id without `google/`.
 *
 * SigLIP 2 fixed resolution keeps model_type "siglip" (SigLIP's forward) with the Gemma tokenizer's 256000-token
 * vocabulary and bilinear resizing; NaFlex is model_type "siglip2" (num_patches instead of image_size). so400m has
 * 16 heads of 72; giant-opt's vision tower is ViT-g (1536 wide, 40 layers, 16 heads of 96) with so400m's text tower
 * projected to 1536.
 */
type Json = Record<string, unknown>;

interface Preset {
  config: Json;
  preprocessor: Json;
}

const base = { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12 };
const large = { hidden_size: 1024, intermediate_size: 4096, num_hidden_layers: 24, num_attention_heads: 16 };
const so400m = { hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, num_attention_heads: 16 };
const giant = { hidden_size: 1536, intermediate_size: 6144, num_hidden_layers: 40, num_attention_heads: 16 };

/** preprocessor_config.json of a fixed-resolution checkpoint: SigLIP resizes bicubic (3), SigLIP 2 bilinear (2). */
export function presetPreprocessor(imageSize: number, resample = 3): Json {
  return {
    do_normalize: true, do_rescale: true, do_resize: true,
    image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
    image_processor_type: 'SiglipImageProcessor', processor_class: 'SiglipProcessor',
    resample, rescale_factor: 1 / 255, size: { height: imageSize, width: imageSize },
  };
}

/** preprocessor_config.json of a NaFlex checkpoint (Siglip2ImageProcessor, 256 patches by default). */
export function presetNaflexPreprocessor(patchSize: number, maxNumPatches = 256): Json {
  return {
    do_normalize: true, do_rescale: true, do_resize: true,
    image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
    image_processor_type: 'Siglip2ImageProcessor', processor_class: 'Siglip2Processor',
    max_num_patches: maxNumPatches, patch_size: patchSize, resample: 2, rescale_factor: 1 / 255,
  };
}

function siglip(text: Json, vision: Json & { image_size: number }, vocab = 32000): Preset {
  return {
    config: {
      architectures: ['SiglipModel'],
      model_type: 'siglip',
      text_config: { model_type: 'siglip_text_model', vocab_size: vocab, max_position_embeddings: 64, ...text },
      vision_config: { model_type: 'siglip_vision_model', ...vision },
    },
    preprocessor: presetPreprocessor(vision.image_size, 3),
  };
}

/** SigLIP 2, fixed resolution: SiglipModel with Gemma's vocabulary and bilinear preprocessing. */
function siglip2(text: Json, vision: Json & { image_size: number }): Preset {
  const p = siglip({ projection_size: text.hidden_size, ...text }, vision, 256000);
  return { config: p.config, preprocessor: presetPreprocessor(vision.image_size, 2) };
}

function naflex(size: Json, patch: number): Preset {
  return {
    config: {
      architectures: ['Siglip2Model'],
      model_type: 'siglip2',
      text_config: { model_type: 'siglip2_text_model', vocab_size: 256000, max_position_embeddings: 64, projection_size: size.hidden_size, ...size },
      vision_config: { model_type: 'siglip2_vision_model', num_patches: 256, patch_size: patch, ...size },
    },
    preprocessor: presetNaflexPreprocessor(patch),
  };
}

const LIST: Record<string, Preset> = {
  // SigLIP
  'siglip-base-patch16-224': siglip(base, { ...base, image_size: 224, patch_size: 16 }),
  'siglip-base-patch16-256': siglip(base, { ...base, image_size: 256, patch_size: 16 }),
  'siglip-base-patch16-384': siglip(base, { ...base, image_size: 384, patch_size: 16 }),
  'siglip-base-patch16-512': siglip(base, { ...base, image_size: 512, patch_size: 16 }),
  'siglip-base-patch16-256-multilingual': siglip(base, { ...base, image_size: 256, patch_size: 16 }, 250000),
  'siglip-large-patch16-256': siglip(large, { ...large, image_size: 256, patch_size: 16 }),
  'siglip-large-patch16-384': siglip(large, { ...large, image_size: 384, patch_size: 16 }),
  'siglip-so400m-patch14-224': siglip({ ...so400m, projection_size: 1152 }, { ...so400m, image_size: 224, patch_size: 14 }),
  'siglip-so400m-patch14-384': siglip({ ...so400m, projection_size: 1152 }, { ...so400m, image_size: 384, patch_size: 14 }),
  'siglip-so400m-patch16-256-i18n': siglip({ ...so400m, projection_size: 1152 }, { ...so400m, image_size: 256, patch_size: 16 }, 250000),
  // SigLIP 2, fixed resolution
  'siglip2-base-patch16-224': siglip2(base, { ...base, image_size: 224, patch_size: 16 }),
  'siglip2-base-patch16-256': siglip2(base, { ...base, image_size: 256, patch_size: 16 }),
  'siglip2-base-patch16-384': siglip2(base, { ...base, image_size: 384, patch_size: 16 }),
  'siglip2-base-patch16-512': siglip2(base, { ...base, image_size: 512, patch_size: 16 }),
  'siglip2-base-patch32-256': siglip2(base, { ...base, image_size: 256, patch_size: 32 }),
  'siglip2-large-patch16-256': siglip2(large, { ...large, image_size: 256, patch_size: 16 }),
  'siglip2-large-patch16-384': siglip2(large, { ...large, image_size: 384, patch_size: 16 }),
  'siglip2-large-patch16-512': siglip2(large, { ...large, image_size: 512, patch_size: 16 }),
  'siglip2-so400m-patch14-224': siglip2(so400m, { ...so400m, image_size: 224, patch_size: 14 }),
  'siglip2-so400m-patch14-384': siglip2(so400m, { ...so400m, image_size: 384, patch_size: 14 }),
  'siglip2-so400m-patch16-256': siglip2(so400m, { ...so400m, image_size: 256, patch_size: 16 }),
  'siglip2-so400m-patch16-384': siglip2(so400m, { ...so400m, image_size: 384, patch_size: 16 }),
  'siglip2-so400m-patch16-512': siglip2(so400m, { ...so400m, image_size: 512, patch_size: 16 }),
  'siglip2-giant-opt-patch16-256': siglip2({ ...so400m, projection_size: 1536 }, { ...giant, image_size: 256, patch_size: 16 }),
  'siglip2-giant-opt-patch16-384': siglip2({ ...so400m, projection_size: 1536 }, { ...giant, image_size: 384, patch_size: 16 }),
  // SigLIP 2 NaFlex
  'siglip2-base-patch16-naflex': naflex(base, 16),
  'siglip2-so400m-patch16-naflex': naflex(so400m, 16),
};

/** config.json of every preset, by name. */
export const PRESETS: Record<string, Json> = Object.fromEntries(Object.entries(LIST).map(([k, p]) => [k, p.config]));

function find(name: string): Preset {
  const key = name.replace(/^google\//, '');
  const p = LIST[key];
  if (!p) throw new Error(`unknown config "${name}"; known: ${Object.keys(LIST).join(', ')}`);
  return p;
}

export function presetConfig(name: string): Json {
  return structuredClone(find(name).config);
}

/** The preset's preprocessor_config.json (bicubic for SigLIP, bilinear for SigLIP 2, Siglip2ImageProcessor for NaFlex). */
export function presetPreprocessorConfig(name: string): Json {
  return structuredClone(find(name).preprocessor);
}
