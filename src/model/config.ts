/**
 * SigLIP configuration, read from a Hugging Face `config.json` with transformers' defaults for absent fields
 * (save_pretrained writes only fields that differ from them). Anything the engine cannot run is refused here, up
 * front, with the field named.
 */
import { ACTIVATION_NAMES, MAX_HEAD_DIM, parseActivation, type Activation } from '../ops/index.js';

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
  imageSize: number;
  patchSize: number;
  numChannels: number;
  /** ⌊imageSize / patchSize⌋²: SigLIP has no class token. */
  numPatches: number;
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

function field<T>(obj: Record<string, unknown>, defaults: Record<string, unknown>, key: string, where: string, check: (v: unknown) => v is T, what: string): T {
  const v = key in obj && obj[key] !== null && obj[key] !== undefined ? obj[key] : defaults[key];
  if (!check(v)) throw new Error(`${where}.${key} = ${JSON.stringify(v)}: expected ${what}`);
  return v;
}

const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const nonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const posNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const bool = (v: unknown): v is boolean => typeof v === 'boolean';

function tower(obj: Record<string, unknown>, defaults: Record<string, unknown>, where: string): TowerConfig {
  const hiddenSize = field(obj, defaults, 'hidden_size', where, posInt, 'a positive integer');
  const numHeads = field(obj, defaults, 'num_attention_heads', where, posInt, 'a positive integer');
  const act = field(obj, defaults, 'hidden_act', where, (v): v is string => typeof v === 'string', 'a string');
  const supported = ACTIVATION_NAMES.filter((n) => n !== 'none');
  if (act === 'none' || !supported.includes(act)) {
    throw new Error(`${where}.hidden_act = "${act}" is not supported (this engine runs: ${supported.join(', ')})`);
  }
  if (hiddenSize % numHeads !== 0) throw new Error(`${where}.hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  const headDim = hiddenSize / numHeads;
  if (headDim > MAX_HEAD_DIM) throw new Error(`${where}: head dim ${headDim} (hidden_size / num_attention_heads) exceeds the attention kernel's ${MAX_HEAD_DIM}`);
  return {
    hiddenSize,
    intermediateSize: field(obj, defaults, 'intermediate_size', where, posInt, 'a positive integer'),
    numLayers: field(obj, defaults, 'num_hidden_layers', where, nonNegInt, 'a non-negative integer'),
    numHeads,
    headDim,
    layerNormEps: field(obj, defaults, 'layer_norm_eps', where, posNum, 'a positive number'),
    hiddenAct: act,
    activation: parseActivation(act),
  };
}

export function parseSiglipConfig(json: unknown, fileName = 'config.json'): SiglipConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${fileName}: not a JSON object`);
  const raw = json as Record<string, unknown>;
  if (raw.model_type !== undefined && raw.model_type !== 'siglip') {
    throw new Error(`${fileName}: model_type "${String(raw.model_type)}" is not supported (this engine runs "siglip"; SigLIP 2 and CLIP differ)`);
  }
  const tc = (raw.text_config ?? {}) as Record<string, unknown>;
  const vc = (raw.vision_config ?? {}) as Record<string, unknown>;
  if (typeof tc !== 'object' || typeof vc !== 'object') throw new Error(`${fileName}: text_config and vision_config must be objects`);
  const tw = `${fileName}: text_config`;
  const vw = `${fileName}: vision_config`;
  const text: TextConfig = {
    ...tower(tc, TEXT_DEFAULTS, tw),
    vocabSize: field(tc, TEXT_DEFAULTS, 'vocab_size', tw, posInt, 'a positive integer'),
    maxPositions: field(tc, TEXT_DEFAULTS, 'max_position_embeddings', tw, posInt, 'a positive integer'),
    padTokenId: field(tc, TEXT_DEFAULTS, 'pad_token_id', tw, nonNegInt, 'a non-negative integer'),
    eosTokenId: field(tc, TEXT_DEFAULTS, 'eos_token_id', tw, nonNegInt, 'a non-negative integer'),
    projectionSize: 0,
  };
  text.projectionSize = field(tc, { projection_size: text.hiddenSize }, 'projection_size', tw, posInt, 'a positive integer');
  const visionTower = tower(vc, VISION_DEFAULTS, vw);
  const imageSize = field(vc, VISION_DEFAULTS, 'image_size', vw, posInt, 'a positive integer');
  const patchSize = field(vc, VISION_DEFAULTS, 'patch_size', vw, posInt, 'a positive integer');
  // Conv2d(stride = patch) drops the pixels past the last whole patch: so400m's 384 px / 14 gives 27×27 patches.
  if (patchSize > imageSize) throw new Error(`${vw}.patch_size ${patchSize} is larger than image_size ${imageSize}`);
  const numChannels = field(vc, VISION_DEFAULTS, 'num_channels', vw, posInt, 'a positive integer');
  const vision: VisionConfig = {
    ...visionTower,
    imageSize,
    patchSize,
    numChannels,
    numPatches: Math.floor(imageSize / patchSize) ** 2,
    useHead: field(vc, VISION_DEFAULTS, 'vision_use_head', vw, bool, 'true or false'),
  };
  return { text, vision, raw };
}

/** Parameter and FLOP counts, for reports. FLOPs count 2 per multiply-add, matmuls and attention only. */
export function visionFlopsPerImage(v: VisionConfig): number {
  const L = v.numPatches;
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
