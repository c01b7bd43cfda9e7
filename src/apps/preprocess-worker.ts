/**
 * Entry of a decode worker thread (bundled as dist/preprocess-worker.js): receives {id, request}, answers
 * {id, result} with the pixels' buffer transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SiglipImageProcessor, type PreprocessorConfig } from '../model/image/index.js';
import { preprocessOne, type PreprocessRequest } from './preprocess-task.js';

const processor = SiglipImageProcessor.fromConfig((workerData as { config: PreprocessorConfig }).config);
parentPort!.on('message', (msg: { id: number; req: PreprocessRequest }) => {
  void preprocessOne(msg.req, processor).then((result) => {
    parentPort!.postMessage({ id: msg.id, result }, result.ok ? [result.pixels.buffer as ArrayBuffer] : []);
  });
});
