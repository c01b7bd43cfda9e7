/**
 * Reads a SentencePiece `ModelProto` (the `spiece.model` file) into plain data, with the proto2 defaults of
 * sentencepiece_model.proto for absent fields, and checks what SentencePieceProcessor::Load checks for a unigram
 * model (one UNKNOWN piece, no empty or duplicate pieces, 256 byte pieces when byte_fallback is on).
 */
import { WIRE_FIXED32, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';

/** ModelProto.SentencePiece.Type */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

export const MODEL_TYPE_NAMES: Record<number, string> = { 1: 'UNIGRAM', 2: 'BPE', 3: 'WORD', 4: 'CHAR' };
export const MODEL_TYPE_UNIGRAM = 1;
export const MODEL_TYPE_BPE = 2;

export interface SentencePieceModel {
  /** UTF-8 bytes of each piece, by id. */
  pieces: Uint8Array[];
  /** Scores as float32 values (SentencePiece computes in float). */
  scores: Float32Array;
  types: Uint8Array;
  trainer: {
    modelType: number;
    byteFallback: boolean;
    treatWhitespaceAsSuffix: boolean;
  };
  normalizer: NormalizerSpec;
  /**
   * BPE from a tokenizer.json: its merges in rank order (pieces as text), which then decide the merge order
   * instead of the pieces' scores (tokenizers' BPE rather than SentencePiece's; see bpe.ts).
   */
  merges?: [string, string][];
  /** Pieces as binary strings, computed once (see pieceKeys). */
  keys?: string[];
}

export interface NormalizerSpec {
  name: string;
  /** Empty: no charsmap (identity). */
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export function parseSentencePieceModel(bytes: Uint8Array, fileName = 'spiece.model', modelTypes?: readonly number[]): SentencePieceModel {
  if (bytes.byteLength === 0) throw new Error(`${fileName}: empty file, not a SentencePiece model`);
  const r = new WireReader(bytes, fileName, 'ModelProto');
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const trainer = { modelType: 1, byteFallback: false, treatWhitespaceAsSuffix: false };
  const normalizer: NormalizerSpec = {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  let sawTrainer = false;
  let sawNormalizer = false;
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1) {
      r.expect(wire, WIRE_LEN, 'pieces');
      const p = r.sub(`piece ${pieces.length}`);
      let piece: Uint8Array | undefined;
      let score = 0;
      let type: number = PieceType.NORMAL;
      while (!p.done) {
        const [f, w] = p.key();
        if (f === 1) (p.expect(w, WIRE_LEN, 'piece'), (piece = p.bytes()));
        else if (f === 2) (p.expect(w, WIRE_FIXED32, 'score'), (score = p.float32()));
        else if (f === 3) (p.expect(w, WIRE_VARINT, 'type'), (type = p.varint()));
        else p.skip(w);
      }
      pieces.push(piece ?? new Uint8Array(0));
      scores.push(score);
      types.push(type);
    } else if (field === 2) {
      // A repeated sub-message is merged into the earlier one (protobuf semantics), so fields simply overwrite.
      r.expect(wire, WIRE_LEN, 'trainer_spec');
      sawTrainer = true;
      const t = r.sub('trainer_spec');
      while (!t.done) {
        const [f, w] = t.key();
        if (f === 3) (t.expect(w, WIRE_VARINT, 'model_type'), (trainer.modelType = t.varint()));
        else if (f === 24) (t.expect(w, WIRE_VARINT, 'treat_whitespace_as_suffix'), (trainer.treatWhitespaceAsSuffix = t.bool()));
        else if (f === 35) (t.expect(w, WIRE_VARINT, 'byte_fallback'), (trainer.byteFallback = t.bool()));
        else t.skip(w);
      }
    } else if (field === 3) {
      r.expect(wire, WIRE_LEN, 'normalizer_spec');
      sawNormalizer = true;
      const n = r.sub('normalizer_spec');
      while (!n.done) {
        const [f, w] = n.key();
        if (f === 1) (n.expect(w, WIRE_LEN, 'name'), (normalizer.name = decoder.decode(n.bytes())));
        else if (f === 2) (n.expect(w, WIRE_LEN, 'precompiled_charsmap'), (normalizer.precompiledCharsmap = n.bytes()));
        else if (f === 3) (n.expect(w, WIRE_VARINT, 'add_dummy_prefix'), (normalizer.addDummyPrefix = n.bool()));
        else if (f === 4) (n.expect(w, WIRE_VARINT, 'remove_extra_whitespaces'), (normalizer.removeExtraWhitespaces = n.bool()));
        else if (f === 5) (n.expect(w, WIRE_VARINT, 'escape_whitespaces'), (normalizer.escapeWhitespaces = n.bool()));
        else n.skip(w);
      }
    } else {
      r.skip(wire);
    }
  }
  if (pieces.length === 0) {
    throw new Error(`${fileName}: not a valid SentencePiece model (no pieces${sawTrainer ? '' : ', no trainer_spec'})`);
  }
  // SentencePiece writes pieces, then trainer_spec, then normalizer_spec: a file cut at a field boundary still
  // parses, but lacks the specs. (SentencePiece itself would load it, with a different normalization.)
  if (!sawTrainer || !sawNormalizer) {
    const missing = [sawTrainer ? '' : 'trainer_spec', sawNormalizer ? '' : 'normalizer_spec'].filter(Boolean).join(' and ');
    throw new Error(`${fileName}: incomplete SentencePiece model: no ${missing} after ${pieces.length} pieces (truncated file?)`);
  }
  const model: SentencePieceModel = {
    pieces,
    scores: Float32Array.from(scores),
    types: Uint8Array.from(types),
    trainer,
    normalizer,
  };
  validateModel(model, fileName, modelTypes);
  return model;
}

/**
 * The checks SentencePiece's model loading does, with messages that name the file. `types` lists the model types
 * the caller can run (SigLIP's tokenizer: UNIGRAM; Gemma's: BPE).
 */
export function validateModel(model: SentencePieceModel, fileName: string, types: readonly number[] = [MODEL_TYPE_UNIGRAM, MODEL_TYPE_BPE]): void {
  const { modelType } = model.trainer;
  if (!types.includes(modelType)) {
    const name = MODEL_TYPE_NAMES[modelType] ?? `unknown type ${modelType}`;
    const want = types.map((t) => MODEL_TYPE_NAMES[t]).join(' or ');
    const who = types.length === 1 && types[0] === MODEL_TYPE_UNIGRAM ? 'SigLIP (v1) needs' : types.length === 1 ? 'the Gemma tokenizer (SigLIP 2) needs' : 'this engine runs';
    throw new Error(`${fileName}: SentencePiece model type ${name} is not supported; ${who} a ${want} model`);
  }
  const seen = new Set<string>();
  const keys = pieceKeys(model);
  const bytesFound = new Uint8Array(256);
  let unk = -1;
  for (let i = 0; i < model.pieces.length; i++) {
    const p = model.pieces[i]!;
    const type = model.types[i]!;
    if (p.byteLength === 0) throw new Error(`${fileName}: invalid SentencePiece model: piece ${i} is empty`);
    if (type < PieceType.NORMAL || type > PieceType.BYTE) {
      throw new Error(`${fileName}: invalid SentencePiece model: piece ${i} has unknown type ${type}`);
    }
    const key = keys[i]!;
    if (seen.has(key)) throw new Error(`${fileName}: invalid SentencePiece model: piece "${decoder.decode(p)}" is defined twice`);
    seen.add(key);
    if (type === PieceType.UNKNOWN) {
      if (unk >= 0) throw new Error(`${fileName}: invalid SentencePiece model: more than one UNKNOWN piece`);
      unk = i;
    }
    if (type === PieceType.BYTE) {
      if (!model.trainer.byteFallback) {
        throw new Error(`${fileName}: invalid SentencePiece model: byte piece ${decoder.decode(p)} but byte_fallback is off`);
      }
      const b = pieceToByte(key);
      if (b < 0) throw new Error(`${fileName}: invalid SentencePiece model: invalid byte piece ${decoder.decode(p)}`);
      bytesFound[b] = 1;
    }
  }
  if (unk < 0) throw new Error(`${fileName}: invalid SentencePiece model: no UNKNOWN (<unk>) piece`);
  const matchable = model.types.some((t) => t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED);
  if (!matchable) throw new Error(`${fileName}: invalid SentencePiece model: no normal pieces`);
  if (model.trainer.byteFallback && bytesFound.includes(0)) {
    throw new Error(`${fileName}: invalid SentencePiece model: byte_fallback is on but not all 256 byte pieces exist`);
  }
}

/** The pieces as binary strings (cached on the model: building them is most of the loading time). */
export function pieceKeys(model: SentencePieceModel): string[] {
  return (model.keys ??= model.pieces.map((p) => binaryString(p)));
}

/** Bytes as a JS string with one char per byte: cheap Map keys that compare exactly like the C++ byte strings. */
export function binaryString(bytes: Uint8Array, start = 0, end = bytes.byteLength): string {
  let s = '';
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return s;
}

/** "<0x41>" -> 0x41, as SentencePiece's PieceToByte (upper-case hex, exactly two digits); -1 otherwise. */
export function pieceToByte(piece: string): number {
  const m = /^<0x([0-9A-F]{2})>$/.exec(piece);
  return m ? parseInt(m[1]!, 16) : -1;
}

export function byteToPiece(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}
