/**
 * Which tokenizer a checkpoint has, and loading it: SigLIP v1's SentencePiece unigram `spiece.model`
 * (SiglipTokenizer), or SigLIP 2's Gemma BPE `tokenizer.model` / `tokenizer.json` (GemmaTokenizer). tokenizer_config's
 * `tokenizer_class` decides when it names one of them; otherwise the files do.
 */
import { CheckpointError } from '../errors.js';
import { readJson, type FileSource } from '../source.js';
import { GemmaTokenizer } from './gemma-tokenizer.js';
import { SiglipTokenizer } from './siglip-tokenizer.js';

export type TextTokenizer = SiglipTokenizer | GemmaTokenizer;

export interface TokenizerLoadOptions {
  /** Sequence length of `call` (the model's max_position_embeddings). */
  maxLength?: number;
  /**
   * Lower-case texts before tokenizing. Default: SigLIP v1 as its tokenizer_config's do_lower_case says (true);
   * SigLIP 2 true, as the model was trained (transformers' GemmaTokenizer ≤ 4.5x does not; false gives its ids).
   */
  lowerCase?: boolean;
}

/** Whether the checkpoint has tokenizer files at all. */
export async function hasTokenizer(source: FileSource): Promise<boolean> {
  for (const f of ['spiece.model', 'tokenizer.model', 'tokenizer.json']) if (await source.has(f)) return true;
  return false;
}

async function kindOf(source: FileSource): Promise<'siglip' | 'gemma'> {
  if (await source.has('tokenizer_config.json')) {
    const tc = await readJson<Record<string, unknown>>(source, 'tokenizer_config.json');
    const cls = tc && typeof tc === 'object' ? tc.tokenizer_class : undefined;
    if (typeof cls === 'string') {
      if (/^(Gemma|Siglip2)Tokenizer(Fast)?$/.test(cls)) return 'gemma';
      if (/^SiglipTokenizer(Fast)?$/.test(cls)) return 'siglip';
      const file = source.locate('tokenizer_config.json');
      throw new CheckpointError(
        `${file}: tokenizer_class "${cls}" is not supported (this engine runs SiglipTokenizer and SigLIP 2's GemmaTokenizer)`,
        { file, field: 'tokenizer_class' },
      );
    }
  }
  if (await source.has('spiece.model')) return 'siglip';
  if (await source.has('tokenizer.model')) return 'gemma';
  if (await source.has('tokenizer.json')) {
    const json = await readJson<{ model?: { type?: unknown } }>(source, 'tokenizer.json');
    return json?.model?.type === 'BPE' ? 'gemma' : 'siglip';
  }
  throw new Error(`${source.description}: no tokenizer found (spiece.model, tokenizer.model or tokenizer.json)`);
}

/** The checkpoint's tokenizer, of the class it names. */
export async function loadTokenizer(source: FileSource, opts: TokenizerLoadOptions = {}): Promise<TextTokenizer> {
  return (await kindOf(source)) === 'gemma' ? GemmaTokenizer.fromSource(source, opts) : SiglipTokenizer.fromSource(source, opts);
}
