/**
 * The configurations of Google's SigLIP v1 checkpoints (as their config.json states them), so benchmarks and
 * `synth` can make full-size models without downloading anything.
 */
type Json = Record<string, unknown>;

function preset(text: Json, vision: Json): Json {
  return {
    architectures: ['SiglipModel'],
    model_type: 'siglip',
    text_config: { model_type: 'siglip_text_model', vocab_size: 32000, max_position_embeddings: 64, ...text },
    vision_config: { model_type: 'siglip_vision_model', ...vision },
  };
}

const base = { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12 };
const large = { hidden_size: 1024, intermediate_size: 4096, num_hidden_layers: 24, num_attention_heads: 16 };
const so400m = { hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, num_attention_heads: 16 };

export const PRESETS: Record<string, Json> = {
  'siglip-base-patch16-224': preset(base, { ...base, image_size: 224, patch_size: 16 }),
  'siglip-base-patch16-256': preset(base, { ...base, image_size: 256, patch_size: 16 }),
  'siglip-base-patch16-384': preset(base, { ...base, image_size: 384, patch_size: 16 }),
  'siglip-base-patch16-512': preset(base, { ...base, image_size: 512, patch_size: 16 }),
  'siglip-large-patch16-256': preset(large, { ...large, image_size: 256, patch_size: 16 }),
  'siglip-large-patch16-384': preset(large, { ...large, image_size: 384, patch_size: 16 }),
  'siglip-so400m-patch14-224': preset({ ...so400m, projection_size: 1152 }, { ...so400m, image_size: 224, patch_size: 14 }),
  'siglip-so400m-patch14-384': preset({ ...so400m, projection_size: 1152 }, { ...so400m, image_size: 384, patch_size: 14 }),
};

export function presetConfig(name: string): Json {
  const key = name.replace(/^google\//, '');
  const p = PRESETS[key];
  if (!p) throw new Error(`unknown config "${name}"; known: ${Object.keys(PRESETS).join(', ')}`);
  return structuredClone(p);
}

/** preprocessor_config.json as Google's checkpoints ship it, for a given image size. */
export function presetPreprocessor(imageSize: number): Json {
  return {
    do_normalize: true, do_rescale: true, do_resize: true,
    image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
    image_processor_type: 'SiglipImageProcessor', processor_class: 'SiglipProcessor',
    resample: 3, rescale_factor: 1 / 255, size: { height: imageSize, width: imageSize },
  };
}
