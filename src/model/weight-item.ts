/** What the loader is asked to put on the device: one item per device weight, assembled from checkpoint tensors. */
import type { PackedFormat } from '../runtime/weight-format.js';

/** One source tensor (or a row range of it) placed at a row of a destination tensor. */
export interface WeightPart {
  src: string;
  srcShape: number[];
  /** Rows [r0, r1) of the source's first dimension; default all. */
  rows?: [number, number];
  /** First row of the destination it lands on. */
  dstRow: number;
}

export interface WeightItem {
  key: string;
  /** Shape as the parts assemble it (for linear weights [out, in], HF's layout). */
  shape: number[];
  parts: WeightPart[];
  /**
   * Store the assembled 2-D matrix transposed ([in, out]): the layout that makes matmul fastest on some adapters
   * (see the tuner's weightLayout). Assembled in host memory first, so it costs one matrix of RAM while loading.
   */
  transpose?: boolean;
  /** A weight matrix (linear weight, patch embedding, token table): what compact dtypes pack. */
  matrix?: boolean;
  /** Store packed in this format ([rows, cols] as the parts assemble it): quantized at load, or converted already. */
  packed?: { format: PackedFormat; group: number };
}
