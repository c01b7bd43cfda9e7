/**
 * config.json against the checkpoint it came with, before any weight plan is built or GPU memory allocated: the
 * layer count against the layers the safetensors files hold, and each size against the shape of a tensor that
 * carries it. A config that disagrees (hostile, or saved for another checkpoint) is refused with the file, the
 * field, its value and the tensor that contradicts it — rather than building a plan of 2^31 layers, or a "missing
 * tensor" message that does not say which number was wrong.
 */
import type { SiglipConfig } from './config.js';
import { CheckpointError } from './errors.js';
import type { StEntry } from './safetensors.js';
import type { Tower } from './siglip-weights.js';

interface Expectation {
  tensor: string;
  /** Index into the tensor's shape, and what the config says it is. */
  dim: number;
  value: number;
  /** The config field(s) the value comes from, and how. */
  field: string;
  derived?: string;
}

export function checkConfigAgainstCheckpoint(cfg: SiglipConfig, entries: Map<string, StEntry>, towers: readonly Tower[], configFile: string, locate: (file: string) => string): void {
  const fail = (field: string, msg: string) => new CheckpointError(`${configFile}: ${field} ${msg}`, { file: configFile, field });
  for (const tower of towers) {
    const c = tower === 'vision' ? cfg.vision : cfg.text;
    const section = `${tower}_config`;
    const layers = layersPresent(entries, `${tower}_model.encoder.layers.`);
    if (c.numLayers > layers) {
      throw fail(
        `${section}.num_hidden_layers`,
        `= ${c.numLayers}, but the checkpoint holds ${layers} ${tower} encoder layer${layers === 1 ? '' : 's'} (${tower}_model.encoder.layers.N.*)`,
      );
    }
    const checks: Expectation[] = [];
    const D = c.hiddenSize;
    const hidden = `${section}.hidden_size`;
    if (c.numLayers > 0) {
      const l0 = `${tower}_model.encoder.layers.0`;
      checks.push({ tensor: `${l0}.mlp.fc1.weight`, dim: 0, value: c.intermediateSize, field: `${section}.intermediate_size` });
      checks.push({ tensor: `${l0}.mlp.fc1.weight`, dim: 1, value: D, field: hidden });
    }
    if (tower === 'vision') {
      const v = cfg.vision;
      const e = 'vision_model.embeddings';
      checks.push({ tensor: `${e}.patch_embedding.weight`, dim: 0, value: D, field: hidden });
      if (v.naflex) {
        // NaFlex: a Linear over flattened patches, [D, p·p·C]; the table has num_patches rows.
        const F = v.numChannels * v.patchSize ** 2;
        checks.push({ tensor: `${e}.patch_embedding.weight`, dim: 1, value: F, field: `${section}.patch_size`, derived: `${v.patchSize} (patches of ${v.patchSize}·${v.patchSize}·${v.numChannels} = ${F} values)` });
        checks.push({ tensor: `${e}.position_embedding.weight`, dim: 0, value: v.numPatches, field: `${section}.num_patches` });
      } else {
        checks.push({ tensor: `${e}.patch_embedding.weight`, dim: 2, value: v.patchSize, field: `${section}.patch_size` });
        checks.push({
          tensor: `${e}.position_embedding.weight`,
          dim: 0,
          value: v.numPatches,
          field: `${section}.image_size`,
          derived: `(image_size / patch_size)² = (${v.imageSize} / ${v.patchSize})² = ${v.numPatches} positions`,
        });
      }
    } else {
      const t = cfg.text;
      const e = 'text_model.embeddings';
      checks.push({ tensor: `${e}.token_embedding.weight`, dim: 0, value: t.vocabSize, field: `${section}.vocab_size` });
      checks.push({ tensor: `${e}.token_embedding.weight`, dim: 1, value: D, field: hidden });
      checks.push({ tensor: `${e}.position_embedding.weight`, dim: 0, value: t.maxPositions, field: `${section}.max_position_embeddings` });
      checks.push({ tensor: 'text_model.head.weight', dim: 0, value: t.projectionSize, field: `${section}.projection_size` });
    }
    for (const x of checks) {
      const e = entries.get(x.tensor);
      if (!e || e.shape[x.dim] === undefined) continue; // absent or another rank: the weight plan's check names it
      if (e.shape[x.dim] !== x.value) {
        const value = x.derived ?? `= ${x.value}`;
        throw fail(x.field, `${value}, but ${locate(e.file)}: tensor ${x.tensor} has shape [${e.shape.join(', ')}] (${e.shape[x.dim]} where the config implies ${x.value})`);
      }
    }
  }
}

/** How many consecutive layers 0, 1, 2, … have tensors under `prefix`. */
function layersPresent(entries: Map<string, StEntry>, prefix: string): number {
  const seen = new Set<number>();
  for (const name of entries.keys()) {
    if (!name.startsWith(prefix)) continue;
    const n = Number(name.slice(prefix.length).split('.')[0]);
    if (Number.isInteger(n) && n >= 0) seen.add(n);
  }
  let count = 0;
  while (seen.has(count)) count++;
  return count;
}
