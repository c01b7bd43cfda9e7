/**
 * Errors a program can catch and tell apart: bad input (a checkpoint or config file that cannot be used, an output
 * that is not a number) versus a bug. A server answers the first kind with 400 and the second with 500; the CLI
 * exits 1 with the message. Images that cannot be decoded have their own class (ImageDecodeError, ./image), and
 * hub values that may not become paths theirs (UnsafeHubValueError, ./hub).
 */

export interface CheckpointErrorDetails {
  /** The file, as its source locates it (a path or URL). */
  file: string;
  /** The config field, as a dotted path ("text_config.num_hidden_layers"), when one is at fault. */
  field?: string;
  /** The tensor, when one is at fault. */
  tensor?: string;
}

/** A checkpoint file (config.json, a safetensors file, a tokenizer or preprocessor file) that cannot be used as
 *  it is. The message names the file and the field or tensor; the same are properties. */
export class CheckpointError extends Error {
  readonly file: string;
  readonly field?: string;
  readonly tensor?: string;

  constructor(message: string, details: CheckpointErrorDetails) {
    super(message);
    this.name = 'CheckpointError';
    this.file = details.file;
    if (details.field !== undefined) this.field = details.field;
    if (details.tensor !== undefined) this.tensor = details.tensor;
  }
}

/** What a call was given that the model cannot take: a tensor of the wrong shape or length, a token id outside the
 *  vocabulary, non-finite pixels, no labels. The caller's mistake (a server's 400), not the checkpoint's. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Runs a parser on a file's content; whatever it throws becomes a CheckpointError naming the file (one it threw
 *  already is kept). Only for parsing: reading the bytes (network, disk) stays outside, with its own errors. */
export function parsingFile<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    const msg = (e as Error)?.message ?? String(e);
    throw new CheckpointError(msg.startsWith(file) ? msg : `${file}: ${msg}`, { file });
  }
}

/** A forward pass produced NaN or ±Infinity in a final output (embeddings, logits): never returned as a result. */
export class NonFiniteOutputError extends Error {
  constructor(
    /** Which pass: "vision", "text", or "logits" (the image–text head). */
    readonly tower: string,
    /** The output's name ("image_embeds", "logits_per_image", …). */
    readonly output: string,
    /** Flat index of the first non-finite value, and its value. */
    readonly index: number,
    readonly value: number,
  ) {
    super(
      `${output} (${tower}) holds ${value} at flat index ${index}: the weights or inputs give non-finite numbers ` +
        "(a corrupt or mismatched checkpoint, or values beyond the dtype's range); no result is returned",
    );
    this.name = 'NonFiniteOutputError';
  }
}

/** Throws NonFiniteOutputError at the first NaN or infinite value of `data`. Cheap: one pass over final outputs. */
export function assertFinite(data: ArrayLike<number>, tower: string, output: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new NonFiniteOutputError(tower, output, i, v);
  }
}
