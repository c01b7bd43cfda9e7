#!/usr/bin/env node
/**
 * siglip-webgpu CLI. Commands: classify, embed, index, search, serve, forward, synth, convert, tokenize, preprocess, bench,
 * info.
 * Exit codes: 0 ok, 1 failure (bad file, device error, …), 2 bad arguments.
 */
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_MODEL } from '../model/siglip-model.js';
import { UsageError, withCommon } from './common.js';
import { classify } from './classify.js';
import { convert } from './convert.js';
import { embed } from './embed.js';
import { forward } from './forward.js';
import { info } from './info.js';
import { preprocess, tokenize } from './inputs.js';
import { synth } from './synth.js';
import { registerBench } from './bench.js';
import { registerApps } from './apps.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

const NO_LOWER_CASE = 'keep the texts\' case (default: lower-cased, as SigLIP and SigLIP 2 were trained)';
const MAX_NUM_PATCHES = 'NaFlex models (SigLIP 2 "naflex"): patches per image, e.g. 256, 576, 784, 1024 (default: the model\'s)';

export function buildProgram(): Command {
  const program = new Command('siglip-webgpu')
    .description('SigLIP image/text embeddings and zero-shot labels on WebGPU (hand-written WGSL kernels)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  withCommon(program.command('classify').argument('<image...>', 'image files (PNG, JPEG)'))
    .description('zero-shot classification: sigmoid score of each label for each image')
    .requiredOption('--labels <a,b,c>', 'comma-separated labels')
    .option('--template <t>', 'label template; {} is replaced by the label', 'This is a photo of {}.')
    .option('--max-num-patches <n>', MAX_NUM_PATCHES)
    .option('--no-lower-case', NO_LOWER_CASE)
    .action((images: string[], o) => classify(images, o));

  withCommon(program.command('embed'))
    .description('L2-normalized image and/or text embeddings')
    .option('--image <path>', 'an image file (repeatable)', collect)
    .option('--text <text>', 'a text (repeatable)', collect)
    .option('--out <file.safetensors>', 'write image_embeds / text_embeds here')
    .option('--max-num-patches <n>', MAX_NUM_PATCHES)
    .option('--no-lower-case', NO_LOWER_CASE)
    .action((o) => embed(o));

  withCommon(program.command('forward'))
    .description('the full forward pass on saved inputs (pixel_values and/or input_ids), every output saved')
    .requiredOption('--inputs <in.safetensors>', 'pixel_values [B,3,H,W] float32 (NaFlex: [B,L,3·p·p] with pixel_attention_mask [B,L] and spatial_shapes [B,2]) and/or input_ids [T,L] int32')
    .requiredOption('--out <out.safetensors>', 'outputs by HF names, float32')
    .option('--hidden-states', 'also save every layer\'s hidden states')
    .option('--profile', 'then time one more pass per tower and print GPU time per op type to stderr')
    .action((o) => forward(o));

  program
    .command('synth')
    .description('write a full-size checkpoint with deterministic random weights (no download)')
    .requiredOption('--config <name>', 'e.g. siglip-large-patch16-384, siglip-base-patch16-224, siglip-so400m-patch14-384')
    .requiredOption('--out <dir>', 'output directory (config.json, preprocessor_config.json, model.safetensors)')
    .option('--seed <n>', 'random seed', '0')
    .option('--json', 'machine-readable output on stdout')
    .action((o) => synth(o));

  program
    .command('convert')
    .description('write a compact copy of a checkpoint: its matmul and embedding weights as f16, int8 or 4-bit (docs/compact-weights.md)')
    .requiredOption('--model <id|dir|url>', 'the checkpoint to convert: hub id, local directory or base URL (F32, F16 or BF16; one file or sharded)')
    .addOption(new Option('--dtype <dtype>', 'f16 (half the bytes), int8 (about a quarter) or q4 (about a sixth)').choices(['f16', 'int8', 'q4']).makeOptionMandatory())
    .option('--group <n>', 'weights per scale: int8 128 (default), 64, 32 or 0 (one per output channel); q4 32 (default), 64 or 128')
    .requiredOption('--out <dir>', 'output directory (new or empty): config, preprocessor and tokenizer files, model.safetensors')
    .option('--force', 'replace what a non-empty --out holds (hidden entries such as .git are kept)')
    .option('--json', 'machine-readable summary on stdout')
    .action((o) => convert(o));

  withCommon(program.command('tokenize'), { model: true, dtype: false, batch: false })
    .description('token ids as the checkpoint\'s tokenizer gives them (SiglipTokenizer, or SigLIP 2\'s Gemma tokenizer; needs only the tokenizer files)')
    .requiredOption('--text <text>', 'a text (repeatable)', collect)
    .option('--no-lower-case', NO_LOWER_CASE)
    .action((o) => tokenize(o));

  withCommon(program.command('preprocess'), { model: true, dtype: false, batch: false })
    .description('pixel_values as SiglipImageProcessor gives them; for NaFlex models also pixel_attention_mask and spatial_shapes (needs only config.json and preprocessor_config.json)')
    .requiredOption('--image <path>', 'an image file (repeatable)', collect)
    .requiredOption('--out <file.safetensors>', 'where to write pixel_values (and the NaFlex tensors)')
    .option('--max-num-patches <n>', MAX_NUM_PATCHES)
    .action((o) => preprocess(o));

  registerApps(program, withCommon);
  registerBench(program, withCommon);

  withCommon(program.command('info'), { model: false, dtype: false, batch: false })
    .description('the WebGPU adapter: name, features, limits')
    .action((o) => info(o));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander printed the message (or the help) already.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
    }
    const err = e as Error;
    process.stderr.write(`siglip-webgpu: ${err.message}\n`);
    if (process.env.SIGLIP_DEBUG) process.stderr.write(`${err.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

const code = await main(process.argv);
process.exitCode = code;
