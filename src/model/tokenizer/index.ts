export { SiglipTokenizer } from './siglip-tokenizer.js';
export { GemmaTokenizer, type GemmaTokenizerOptions } from './gemma-tokenizer.js';
export { hasTokenizer, loadTokenizer, type TextTokenizer, type TokenizerLoadOptions } from './load.js';
export { configFromHfFiles, type AddedTokenSpec, type SiglipTokenizerConfig } from './config.js';
export { parseSentencePieceModel, PieceType, type SentencePieceModel, type NormalizerSpec } from './sentencepiece-model.js';
export { sentencePieceModelFromTokenizerJson } from './tokenizer-json.js';
export { bpeModelFromTokenizerJson } from './tokenizer-json-bpe.js';
export { SentencePieceProcessor } from './processor.js';
