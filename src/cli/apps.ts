/** Registers the commands built on embeddings: index, search, serve (src/apps/). */
import { Option, type Command } from 'commander';
import type { WithCommon } from './common.js';
import { MODEL_DTYPES } from '../model/model-dtype.js';
import { indexCommand } from './index-cmd.js';
import { searchCommand } from './search.js';
import { serveCommand } from './serve.js';

export function registerApps(program: Command, withCommon: WithCommon): void {
  withCommon(program.command('index').argument('<inputs...>', 'folders (walked recursively), image files, or file lists (one path per line; - for stdin)'), { model: true, dtype: false, batch: true })
    .description('embed a photo collection into an index folder: .npy shards + JSON-lines metadata, resumable, shardable')
    .requiredOption('--out <dir>', 'index folder (created; an existing index there is resumed)')
    .addOption(new Option('--dtype <dtype>', 'shard dtype: f32 (float32) or f16 (float16)').choices(['f32', 'f16']).default('f32'))
    .addOption(new Option('--model-dtype <dtype>', "the model's weights: f32 (default; a converted checkpoint: its own), f16, int8 or q4 (as --dtype elsewhere)").choices([...MODEL_DTYPES]))
    .addOption(new Option('--group <n>', 'int8/q4: elements per scale (int8: 128 default, 0 = one per output channel; q4: 32 default)').choices(['0', '32', '64', '128']))
    .option('--shard <i/n|auto>', 'take part i of n by a stable hash of each path; writes <out>/shard-i-of-n (auto: from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)')
    .option('--shard-rows <n>', 'rows per shard file', '50000')
    .option('--workers <n>', 'decode threads (default: cores - 1, at most 8; 0 decodes on the main thread)')
    .option('--max-bytes <n>', 'skip files larger than this many bytes', String(256 << 20))
    .option('--max-pixels <n>', 'skip images with more pixels than this (default: PIL\'s limit, 178956970)')
    .option('--ext <list>', 'file extensions picked up in folders (default: jpg,jpeg,png,webp,gif,bmp,tif,tiff,avif,heic,…)')
    .option('--retry-errors', 'try files that failed before again, even if unchanged')
    .option('--progress-interval <s>', 'seconds between progress lines when stderr is not a terminal', '10')
    .action((inputs: string[], o) => indexCommand(inputs, o));

  withCommon(program.command('search').argument('<index...>', 'index folders (or a folder holding shard-i-of-n folders)'), { model: false, dtype: true, batch: false })
    .description('the best matches in an index for a text or an image, scored on the GPU')
    .option('--model <id|dir|url>', 'the model (default: the one index.json names)')
    .option('--text <text>', 'a text query (scores come with sigmoid probabilities, as classify gives them)')
    .option('--image <path>', 'an image query')
    .option('--top <k>', 'how many results', '10')
    .action((indexes: string[], o) => searchCommand(indexes, o));

  withCommon(program.command('serve'), { model: true, dtype: true, batch: false })
    .description('HTTP server: OpenAI-compatible /v1/embeddings (texts and images), /v1/classify, /v1/search, /health, /metrics')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--index <dir...>', 'serve POST /v1/search over these index folders')
    .option('--max-batch <n>', 'most items per forward pass (dynamic batching)', '32')
    .option('--max-wait-ms <ms>', 'longest a request waits for others to share its pass when the tower is idle (0: start at once; requests arriving during a pass still share the next)', '0')
    .option('--max-queue <n>', 'items waiting beyond this get 429 with Retry-After', '1024')
    .option('--max-items <n>', 'most inputs in one request', '256')
    .option('--max-body-bytes <n>', 'largest request body (413 above)', String(32 << 20))
    .option('--max-image-bytes <n>', 'largest encoded image', String(20 << 20))
    .option('--max-image-pixels <n>', 'largest decoded image', String(50_000_000))
    .option('--max-text-chars <n>', 'longest text, in characters', '20000')
    .option('--timeout-ms <ms>', 'per-request timeout (504 after it)', '60000')
    .option('--api-key <key>', 'require "Authorization: Bearer <key>" on every route but /health (or SIGLIP_WEBGPU_API_KEY)')
    .option('--allow-image-host <host...>', 'hosts (host or host:port) whose http(s) image URLs may be fetched; none by default')
    .option('--served-model-name <name>', 'the name in responses and accepted in "model" (default: --model)')
    .option('--workers <n>', 'image decode threads (default: cores - 1, at most 8)')
    .option('--index-gpu-mib <n>', 'keep up to this much of the index on the GPU between searches', '1024')
    .action((o) => serveCommand(o));
}
