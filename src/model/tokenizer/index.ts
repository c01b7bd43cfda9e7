export { SiglipTokenizer } from './siglip-tokenizer.js';
export { configFromHfFiles, type AddedTokenSpec, type SiglipTokenizerConfig } from './config.js';
export { parseSentencePieceModel, PieceType, type SentencePieceModel, type NormalizerSpec } from './sentencepiece-model.js';
export { sentencePieceModelFromTokenizerJson } from './tokenizer-json.js';
export { SentencePieceProcessor } from './processor.js';
