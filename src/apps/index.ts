/**
 * siglip-webgpu/apps (Node only): the jobs built on embeddings — index a photo collection, search it, serve
 * embeddings over HTTP. The browser bundle never imports this module.
 *
 *   import { SiglipModel } from 'siglip-webgpu';
 *   import { indexImages, IndexReader, IndexSearcher, EmbeddingServer } from 'siglip-webgpu/apps';
 */
export { indexImages, type IndexOptions, type IndexProgress, type IndexSummary } from './indexer.js';
export { IndexWriter, IndexLockedError, type IndexWriterOptions, type ErrorRecord } from './index-writer.js';
export { IndexReader, findIndexDirs, type RowChunk, type ShardView } from './index-reader.js';
export { IndexSearcher, type SearchHit } from './searcher.js';
export { INDEX_FORMAT, INDEX_VERSION, validateIndexJson, type IndexJson, type RowMeta, type ModelInfo } from './index-format.js';
export { walkInputs, IMAGE_EXTENSIONS, type FoundFile, type WalkItem } from './walk.js';
export { parseShard, shardOf, type ShardSpec } from './shard.js';
export { npyHeader, parseNpyHeader, encodeRows, decodeRows, type NpyDtype } from './npy.js';
export { PreprocessPool } from './preprocess-pool.js';
export { DynamicBatcher, QueueFullError, type BatcherOptions } from './batcher.js';
export { EmbeddingServer, type ServerOptions } from './server/server.js';
