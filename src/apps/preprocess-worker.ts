/**
 * Entry of a decode worker thread (bundled as dist/preprocess-worker.js): receives {id, request}, answers
 * {id, result} with the pixels' buffer transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { processorFromSpec, type ProcessorSpec } from '../model/image-inputs.js';
import { preprocessOne, type PreprocessRequest } from './preprocess-task.js';

const processor = processorFromSpec((workerData as { spec: ProcessorSpec }).spec);
parentPort!.on('message', (msg: { id: number; req: PreprocessRequest }) => {
  void preprocessOne(msg.req, processor).then((result) => {
    const transfer = result.ok ? [result.images.pixelValues, result.images.pixelAttentionMask, result.images.spatialShapes].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer) : [];
    parentPort!.postMessage({ id: msg.id, result }, transfer);
  });
});
