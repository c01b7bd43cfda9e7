/**
 * SigLIP configuration, read from a Hugging Face `config.json` with transformers' defaults for absent fields
 * (save_pretrained writes only fields that differ from them). Anything the engine cannot run is refused here, up
 * front, with the field named.
 */
import { ACTIVATION_NAMES, MAX_HEAD_DIM, parseActivation, type Activation } from '../ops/index.js';
import { CheckpointError } from './errors.js';

export interface TowerConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  layerNormEps: number;
  /** `hidden_act` as the config names it (gelu_pytorch_tanh, quick_gelu, …). */
  hiddenAct: string;
  /** The activation it names, as the kernels run it (fused into the MLP's first matmul). */
  activation: Activation;
}

export interface VisionConfig extends TowerConfig {
  /**
   * NaFlex (SigLIP 2, model_type "siglip2"): images come as padded sequences of flattened patches of any aspect
   * ratio, with a mask and a patch grid per image; the patch embedding is a Linear layer and the position table is
   * resized to each image's grid. False: fixed resolution (SigLIP, and SigLIP 2 checkpoints of model_type "siglip").
   */
  naflex: boolean;
  /** Fixed resolution: the input's side in pixels. NaFlex: the position table's side × the patch size (reference). */
  imageSize: number;
  patchSize: number;
  numChannels: number;
  /** Rows of the position table: ⌊imageSize / patchSize⌋² (SigLIP has no class token); NaFlex: `num_patches`. */
  numPatches: number;
  /** NaFlex: the position table's side, √num_patches (it is a square grid). */
  positionGrid: number;
  /** The attention-pooling head (`vision_use_head`, default true). */
  useHead: boolean;
}

export interface TextConfig extends TowerConfig {
  vocabSize: number;
  maxPositions: number;
  padTokenId: number;
  eosTokenId: number;
  /** Width of the text head's output (`projection_size`, default hidden size). */
  projectionSize: number;
}

export interface SiglipConfig {
  text: TextConfig;
  vision: VisionConfig;
  /** The config.json as given, for reference. */
  raw: Record<string, unknown>;
}

// transformers v4.44 SiglipTextConfig / SiglipVisionConfig defaults.
const TEXT_DEFAULTS = {
  vocab_size: 32000, hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12,
  max_position_embeddings: 64, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6, pad_token_id: 1, eos_token_id: 49407,
};
const VISION_DEFAULTS = {
  hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3,
  image_size: 224, patch_size: 16, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6, vision_use_head: true,
};
// transformers v4.50 Siglip2VisionConfig: num_patches instead of image_size (the text config's defaults are v1's).
const NAFLEX_DEFAULTS = {
  hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3,
  num_patches: 256, patch_size: 16, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6, vision_use_head: true,
};

/**
 * Upper bounds on sizes, far above every SigLIP / SigLIP 2 checkpoint (giant-opt: hidden 1536, MLP 6144, 40 layers;
 * SigLIP 2's vocabulary 256000) and low enough that nothing built from them can loop or allocate without bound
 * before the checkpoint's own shapes are compared with them (config-check.ts).
 */
export const CONFIG_LIMITS = {
  hidden_size: 16384,
  intermediate_size: 131072,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  vocab_size: 1 << 21,
  max_position_embeddings: 16384,
  image_size: 16384,
  patch_size: 1024,
  projection_size: 16384,
  /** NaFlex position table rows (a 256 × 256 grid; checkpoints have 16 × 16). */
  num_patches: 65536,
} as const;

/** Where a field sits: the file, and the section inside it ("text_config"). */
interface Place {
  file: string;
  section: string;
}

function configError(at: Place, key: string, message: string): CheckpointError {
  const field = at.section ? `${at.section}.${key}` : key;
  return new CheckpointError(`${at.file}: ${field} ${message}`, { file: at.file, field });
}

function field<T>(obj: Record<string, unknown>, defaults: Record<string, unknown>, key: string, at: Place, check: (v: unknown) => v is T, what: string): T {
  const v = key in obj && obj[key] !== null && obj[key] !== undefined ? obj[key] : defaults[key];
  if (!check(v)) throw configError(at, key, `= ${JSON.stringify(v)}: expected ${what}`);
  return v;
}

/** A positive integer at most the field's limit. */
function size(obj: Record<string, unknown>, defaults: Record<string, unknown>, key: keyof typeof CONFIG_LIMITS, at: Place): number {
  const max = CONFIG_LIMITS[key];
  return field(obj, defaults, key, at, (v): v is number => posInt(v) && v <= max, `a positive integer no larger than ${max}`);
}

const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const nonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const smallPosNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1;
const bool = (v: unknown): v is boolean => typeof v === 'boolean';

function tower(obj: Record<string, unknown>, defaults: Record<string, unknown>, at: Place): TowerConfig {
  const hiddenSize = size(obj, defaults, 'hidden_size', at);
  const numHeads = size(obj, defaults, 'num_attention_heads', at);
  const act = field(obj, defaults, 'hidden_act', at, (v): v is string => typeof v === 'string', 'a string');
  const supported = ACTIVATION_NAMES.filter((n) => n !== 'none');
  if (act === 'none' || !supported.includes(act)) {
    throw configError(at, 'hidden_act', `= "${act}" is not supported (this engine runs: ${supported.join(', ')})`);
  }
  if (hiddenSize % numHeads !== 0) throw configError(at, 'hidden_size', `${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  const headDim = hiddenSize / numHeads;
  if (headDim > MAX_HEAD_DIM) throw configError(at, 'num_attention_heads', `${numHeads} gives a head dim of ${headDim} (hidden_size / num_attention_heads), over the attention kernel's ${MAX_HEAD_DIM}`);
  const max = CONFIG_LIMITS.num_hidden_layers;
  return {
    hiddenSize,
    intermediateSize: size(obj, defaults, 'intermediate_size', at),
    numLayers: field(obj, defaults, 'num_hidden_layers', at, (v): v is number => nonNegInt(v) && v <= max, `a non-negative integer no larger than ${max}`),
    numHeads,
    headDim,
    layerNormEps: field(obj, defaults, 'layer_norm_eps', at, smallPosNum, 'a positive number below 1'),
    hiddenAct: act,
    activation: parseActivation(act),
  };
}

function section(raw: Record<string, unknown>, key: string, file: string): Record<string, unknown> {
  const v = raw[key] ?? {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw configError({ file, section: '' }, key, 'must be an object');
  return v as Record<string, unknown>;
}

export function parseSiglipConfig(json: unknown, fileName = 'config.json'): SiglipConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new CheckpointError(`${fileName}: not a JSON object`, { file: fileName });
  const raw = json as Record<string, unknown>;
  if (raw.model_type !== undefined && raw.model_type !== 'siglip' && raw.model_type !== 'siglip2') {
    throw configError({ file: fileName, section: '' }, 'model_type', `${JSON.stringify(raw.model_type)} is not supported (this engine runs "siglip": SigLIP and fixed-resolution SigLIP 2, and "siglip2": SigLIP 2 NaFlex)`);
  }
  const naflex = raw.model_type === 'siglip2';
  const tc = section(raw, 'text_config', fileName);
  const vc = section(raw, 'vision_config', fileName);
  const tw: Place = { file: fileName, section: 'text_config' };
  const vw: Place = { file: fileName, section: 'vision_config' };
  const text: TextConfig = {
    ...tower(tc, TEXT_DEFAULTS, tw),
    vocabSize: size(tc, TEXT_DEFAULTS, 'vocab_size', tw),
    maxPositions: size(tc, TEXT_DEFAULTS, 'max_position_embeddings', tw),
    padTokenId: field(tc, TEXT_DEFAULTS, 'pad_token_id', tw, nonNegInt, 'a non-negative integer'),
    eosTokenId: field(tc, TEXT_DEFAULTS, 'eos_token_id', tw, nonNegInt, 'a non-negative integer'),
    projectionSize: 0,
  };
  // pad_token_id and eos_token_id are informational here (transformers' defaults, 1 and 49407, stand in saved
  // configs whose vocabulary is smaller): the tokenizer's own ids are used, and every id is checked against
  // vocab_size before it reaches a shader (siglip-runner.ts).
  text.projectionSize = size(tc, { projection_size: text.hiddenSize }, 'projection_size', tw);
  return { text, vision: naflex ? naflexVision(vc, vw) : fixedVision(vc, vw), raw };
}

function fixedVision(vc: Record<string, unknown>, vw: Place): VisionConfig {
  const visionTower = tower(vc, VISION_DEFAULTS, vw);
  const imageSize = size(vc, VISION_DEFAULTS, 'image_size', vw);
  const patchSize = size(vc, VISION_DEFAULTS, 'patch_size', vw);
  // Conv2d(stride = patch) drops the pixels past the last whole patch: so400m's 384 px / 14 gives 27×27 patches.
  if (patchSize > imageSize) throw configError(vw, 'patch_size', `${patchSize} is larger than image_size ${imageSize}`);
  // The image processor makes RGB pixel values; SigLIP checkpoints are all 3-channel.
  const numChannels = field(vc, VISION_DEFAULTS, 'num_channels', vw, (v): v is number => v === 3, '3 (RGB)');
  const grid = Math.floor(imageSize / patchSize);
  return {
    ...visionTower,
    naflex: false,
    imageSize,
    patchSize,
    numChannels,
    numPatches: grid ** 2,
    positionGrid: grid,
    useHead: field(vc, VISION_DEFAULTS, 'vision_use_head', vw, bool, 'true or false'),
  };
}

/** SigLIP 2 NaFlex's vision tower (Siglip2VisionConfig): a square position table of num_patches rows. */
function naflexVision(vc: Record<string, unknown>, vw: Place): VisionConfig {
  const visionTower = tower(vc, NAFLEX_DEFAULTS, vw);
  const patchSize = size(vc, NAFLEX_DEFAULTS, 'patch_size', vw);
  const numPatches = size(vc, NAFLEX_DEFAULTS, 'num_patches', vw);
  const grid = Math.round(Math.sqrt(numPatches));
  // transformers reshapes the table to √N × √N before resizing it: anything else cannot be a NaFlex table.
  if (grid * grid !== numPatches) throw configError(vw, 'num_patches', `= ${numPatches} is not a square number (the position table is a √N × √N grid)`);
  const numChannels = field(vc, NAFLEX_DEFAULTS, 'num_channels', vw, (v): v is number => v === 3, '3 (RGB)');
  return {
    ...visionTower,
    naflex: true,
    imageSize: grid * patchSize,
    patchSize,
    numChannels,
    numPatches,
    positionGrid: grid,
    useHead: field(vc, NAFLEX_DEFAULTS, 'vision_use_head', vw, bool, 'true or false'),
  };
}

/**
 * Parameter and FLOP counts, for reports. FLOPs count 2 per multiply-add, matmuls and attention only. `tokens`: the
 * sequence length (NaFlex: max_num_patches of the call; default the position table's size).
 */
export function visionFlopsPerImage(v: VisionConfig, tokens = v.numPatches): number {
  const L = tokens;
  const D = v.hiddenSize;
  const patch = 2 * L * D * v.numChannels * v.patchSize ** 2;
  const layer = 2 * L * D * (4 * D + 2 * v.intermediateSize) + 4 * L * L * D;
  const head = v.useHead ? 2 * L * D * 2 * D + 4 * L * D + 2 * D * (2 * D + 2 * v.intermediateSize) : 0;
  return patch + v.numLayers * layer + head;
}

export function textFlopsPerText(t: TextConfig, length = t.maxPositions): number {
  const D = t.hiddenSize;
  const layer = 2 * length * D * (4 * D + 2 * t.intermediateSize) + 4 * length * length * D;
  return t.numLayers * layer + 2 * D * t.projectionSize;
}
