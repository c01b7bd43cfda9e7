/**
 * The embedding server (node:http): OpenAI-compatible POST /v1/embeddings for texts and images, POST /v1/classify,
 * POST /v1/search (with an index), GET /v1/models, GET /health, GET /metrics.
 *
 * Requests are admitted, parsed and checked; images are decoded on worker threads; then every text and image
 * goes through its tower's DynamicBatcher, so concurrent requests share forward passes. Batching never changes
 * a result: each row of a pass is computed on its own (checked by the tests against unbatched `embed`).
 *
 * Bounds: body size (413), items per request (413), text length (413) and tokens (400 unless "truncate": true),
 * image bytes (413) and pixels (400), queued items (429 + Retry-After), time per request (504). Any fault in a
 * request is answered with a message naming it; the server keeps serving. close() drains: new requests get 503,
 * the ones in flight finish, then it stops.
 */
import { InputError, NonFiniteOutputError } from '../../model/errors.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SiglipModel } from '../../model/siglip-model.js';
import { processorSpec, stackPreprocessed, type PreprocessedImages } from '../../model/image-inputs.js';
import { DynamicBatcher, QueueFullError } from '../batcher.js';
import { IndexReader } from '../index-reader.js';
import { PreprocessPool } from '../preprocess-pool.js';
import { IndexSearcher } from '../searcher.js';
import { bad, ClientError } from './errors.js';
import { checkText, parseEmbeddingInput, parseImage, requireObject, type InputLimits, type Item } from './inputs.js';
import { ServerMetrics } from './metrics.js';
import { fetchImage } from './remote-image.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  maxBatch?: number;
  maxWaitMs?: number;
  maxQueue?: number;
  maxItems?: number;
  maxBodyBytes?: number;
  maxImageBytes?: number;
  maxImagePixels?: number;
  maxTextChars?: number;
  timeoutMs?: number;
  /** Bearer token required on every route but /health. */
  apiKey?: string;
  allowImageHosts?: string[];
  servedModelName?: string;
  workers?: number;
  workerUrl?: URL;
  /** Index folders for /v1/search. */
  index?: string[];
  /** Bytes of the index kept on the GPU between searches (default 1 GiB). */
  indexGpuBytes?: number;
  /** Longest close() waits for requests in flight (default 30 s). */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
}

type Tower = 'text' | 'vision';

const ROUTES: Record<string, string[]> = {
  '/health': ['GET'],
  '/metrics': ['GET'],
  '/v1/models': ['GET'],
  '/v1/embeddings': ['POST'],
  '/v1/classify': ['POST'],
  '/v1/search': ['POST'],
};

function float32Base64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'); // little-endian on every platform Node runs on
}

export class EmbeddingServer {
  private readonly server: Server;
  private readonly text: DynamicBatcher<Int32Array, Float32Array>;
  private readonly vision: DynamicBatcher<PreprocessedImages, Float32Array>;
  private readonly pool: PreprocessPool;
  private readonly metrics: ServerMetrics;
  private readonly o: Required<Omit<ServerOptions, 'apiKey' | 'workers' | 'workerUrl' | 'index' | 'log'>> & ServerOptions;
  private readonly limits: InputLimits;
  private readonly keyHash: Buffer | null;
  private searcher: IndexSearcher | null = null;
  private decoding = 0;
  private draining = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closing: Promise<void> | null = null;

  private constructor(readonly model: SiglipModel, opts: ServerOptions) {
    this.o = {
      host: '127.0.0.1',
      port: 8080,
      maxBatch: 32,
      maxWaitMs: 0,
      maxQueue: 1024,
      maxItems: 256,
      maxBodyBytes: 32 << 20,
      maxImageBytes: 20 << 20,
      maxImagePixels: 50_000_000,
      maxTextChars: 20_000,
      timeoutMs: 60_000,
      allowImageHosts: [],
      servedModelName: model.source.description,
      indexGpuBytes: 1 << 30,
      drainTimeoutMs: 30_000,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    };
    for (const k of ['maxBatch', 'maxQueue', 'maxItems', 'maxBodyBytes', 'maxImageBytes', 'maxImagePixels', 'maxTextChars', 'timeoutMs'] as const) {
      const v = this.o[k];
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
    }
    this.limits = { maxItems: this.o.maxItems, maxTextChars: this.o.maxTextChars, maxImageBytes: this.o.maxImageBytes, allowImageHosts: this.o.allowImageHosts };
    this.keyHash = opts.apiKey ? createHash('sha256').update(opts.apiKey).digest() : null;
    this.metrics = new ServerMetrics((t) => (t === 'text' ? this.text.queued : t === 'vision' ? this.vision.queued : this.decoding));
    const onBatch = (tower: Tower) => (n: number, s: number) => {
      this.metrics.batchSize.observe({ tower }, n);
      this.metrics.batchSeconds.observe({ tower }, s);
      this.metrics.items.inc({ tower }, n);
    };
    const batch = { maxBatch: this.o.maxBatch, maxWaitMs: this.o.maxWaitMs };
    this.text = new DynamicBatcher((rows) => this.embedTextRows(rows), { ...batch, onBatch: onBatch('text') });
    this.vision = new DynamicBatcher((rows) => this.embedPixelRows(rows), { ...batch, onBatch: onBatch('vision') });
    this.pool = new PreprocessPool(processorSpec(model.imageProcessor), { workers: opts.workers, workerUrl: opts.workerUrl });
    // The whole request must arrive within the request timeout (slow senders hold no slot for ever).
    const requestTimeout = Math.max(this.o.timeoutMs, 5000);
    this.server = createServer({ requestTimeout, headersTimeout: Math.min(30_000, requestTimeout), keepAliveTimeout: 5000 }, (req, res) => {
      const p = this.handle(req, res).catch((e) => this.log(`internal error: ${(e as Error).stack ?? e}`));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    });
    this.server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
      void err;
    });
  }

  static async start(model: SiglipModel, opts: ServerOptions = {}): Promise<EmbeddingServer> {
    const s = new EmbeddingServer(model, opts);
    try {
      if (opts.index?.length) {
        const reader = await IndexReader.open(opts.index);
        if (reader.dim !== model.embedDim) throw new Error(`the index holds ${reader.dim}-dimensional rows, the model gives ${model.embedDim}: serve it with the model that built it (${reader.model.id})`);
        s.searcher = new IndexSearcher(reader, model.engine, { residentBytes: s.o.indexGpuBytes });
        await s.searcher.warm();
      }
      await new Promise<void>((resolve, reject) => {
        s.server.once('error', reject);
        s.server.listen(s.o.port, s.o.host, () => {
          s.server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      s.searcher?.dispose();
      await s.pool.close();
      throw e;
    }
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return `http://${host}:${this.port}`;
  }

  get indexSize(): number | null {
    return this.searcher ? this.searcher.reader.count : null;
  }

  private log(line: string): void {
    (this.o.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
  }

  // ------------------------------------------------------------------ the towers, batched

  private async embedTextRows(rows: Int32Array[]): Promise<Float32Array[]> {
    const L = rows[0]!.length;
    const ids = new Int32Array(rows.length * L);
    rows.forEach((r, i) => ids.set(r, i * L));
    const out = await this.model.forward({ inputIds: { data: ids, shape: [rows.length, L] } });
    const D = this.model.embedDim;
    const e = out.text_embeds!.data;
    return rows.map((_, i) => e.slice(i * D, (i + 1) * D));
  }

  /** One pass over images preprocessed apart (each with its NaFlex mask and grid where the model has them). */
  private async embedPixelRows(rows: PreprocessedImages[]): Promise<Float32Array[]> {
    const out = await this.model.forward(SiglipModel.imageInputs(stackPreprocessed(rows)));
    const D = this.model.embedDim;
    const e = out.image_embeds!.data;
    return rows.map((_, i) => e.slice(i * D, (i + 1) * D));
  }

  /** Token ids of one text, padded; refuses texts over the model's length unless `truncate`. */
  private tokenize(text: string, param: string, truncate: boolean): { ids: Int32Array; tokens: number } {
    const L = this.model.config.text.maxPositions;
    const n = this.model.tokenizer.encode(text).length;
    if (n > L && !truncate) {
      throw bad(`${param} is ${n} tokens, more than this model's ${L}; shorten it, or send "truncate": true to cut it as transformers does`, param, 'too_many_tokens');
    }
    return { ids: this.model.tokenize([text]).inputIds, tokens: Math.min(n, L) };
  }

  private admit(n: number): void {
    const waiting = this.text.queued + this.vision.queued + this.decoding;
    if (waiting + n > this.o.maxQueue) {
      const retry = Math.max(this.text.retryAfter(0), this.vision.retryAfter(0));
      throw new QueueFullError(`the server is busy: ${waiting} items are queued and this request brings ${n} (limit ${this.o.maxQueue}); retry after ${retry} s`, retry);
    }
  }

  private async imagePixels(image: Uint8Array | URL, param: string, signal: AbortSignal): Promise<PreprocessedImages> {
    this.decoding++;
    try {
      const bytes = image instanceof URL ? await fetchImage(image, this.o.maxImageBytes, Math.min(this.o.timeoutMs, 30_000), param, signal) : image;
      const r = await this.pool.run({ bytes, maxBytes: this.o.maxImageBytes, maxPixels: this.o.maxImagePixels });
      if (!r.ok) {
        if (r.inputFault) throw bad(`${param}: ${r.error}`, param, 'invalid_image');
        throw new Error(`${param}: ${r.error}`);
      }
      return r.images;
    } finally {
      this.decoding--;
    }
  }

  /** Embeds checked items through the batchers; returns rows in order plus the number of text tokens. */
  private async embedItems(items: Item[], truncate: boolean, signal: AbortSignal): Promise<{ rows: Float32Array[]; tokens: number }> {
    this.admit(items.length);
    let tokens = 0;
    const texts = items.map((it) => {
      if (it.kind !== 'text') return null;
      const t = this.tokenize(it.text, it.param, truncate);
      tokens += t.tokens;
      return t.ids;
    });
    const imgs = await Promise.all(items.map((it) => (it.kind === 'image' ? this.imagePixels(it.image, it.param, signal) : null)));
    const textIdx = texts.flatMap((t, i) => (t ? [i] : []));
    const imgIdx = imgs.flatMap((t, i) => (t ? [i] : []));
    const [tOut, iOut] = await Promise.all([
      textIdx.length ? this.text.submit(textIdx.map((i) => texts[i]!), signal) : [],
      imgIdx.length ? this.vision.submit(imgIdx.map((i) => imgs[i]!), signal) : [],
    ]);
    const rows = new Array<Float32Array>(items.length);
    textIdx.forEach((i, k) => (rows[i] = tOut[k]!));
    imgIdx.forEach((i, k) => (rows[i] = iOut[k]!));
    return { rows, tokens };
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const route = ROUTES[path] ? path : 'other';
    let status = 500;
    const send = (code: number, body: unknown, headers: Record<string, string> = {}, text = false) => {
      status = code;
      if (res.headersSent) return;
      const payload = text ? String(body) : JSON.stringify(body);
      res.writeHead(code, {
        'content-type': text ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...(this.draining ? { connection: 'close' } : {}),
        ...headers,
      });
      res.end(payload);
    };
    const sendError = (e: ClientError) => send(e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } }, e.headers);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new ClientError(504, `the request took longer than the limit of ${this.o.timeoutMs} ms`, null, 'timeout')), this.o.timeoutMs);
    try {
      const methods = ROUTES[path];
      if (!methods) throw new ClientError(404, `no route ${req.method} ${path}; routes: ${Object.keys(ROUTES).join(', ')}`, null, 'not_found');
      if (!methods.includes(req.method ?? '')) throw new ClientError(405, `${path} takes ${methods.join(', ')}, not ${req.method}`, null, 'method_not_allowed', { allow: methods.join(', ') });
      if (path === '/health') {
        return send(this.draining ? 503 : 200, { status: this.draining ? 'draining' : 'ok', model: this.o.servedModelName, adapter: this.model.engine.info.name, queued: this.text.queued + this.vision.queued + this.decoding });
      }
      this.authorize(req);
      if (this.draining) throw new ClientError(503, 'the server is shutting down', null, 'shutting_down', { 'retry-after': '1' });
      if (path === '/metrics') return send(200, await this.metrics.registry.metrics(), {}, true);
      if (path === '/v1/models') return send(200, { object: 'list', data: [{ id: this.o.servedModelName, object: 'model', owned_by: 'siglip-webgpu', created: 0 }] });
      const body = requireObject(await this.readJson(req));
      const work =
        path === '/v1/embeddings' ? this.embeddings(body, timeout.signal) : path === '/v1/classify' ? this.classify(body, timeout.signal) : this.search(body, timeout.signal);
      const aborted = new Promise<never>((_, reject) => timeout.signal.addEventListener('abort', () => reject(timeout.signal.reason), { once: true }));
      work.catch(() => undefined);
      send(200, await Promise.race([work, aborted]));
    } catch (e) {
      if (e instanceof ClientError) sendError(e);
      else if (e instanceof QueueFullError) sendError(new ClientError(429, e.message, null, 'queue_full', { 'retry-after': String(e.retryAfterS) }));
      // The model's own typed errors: the request's input at fault (400), or a checkpoint that computes NaN (500,
      // said as such, not as a bug).
      else if (e instanceof InputError) sendError(new ClientError(400, e.message, null, 'invalid_input'));
      else if (e instanceof NonFiniteOutputError) sendError(new ClientError(500, e.message, null, 'non_finite_output'));
      else {
        this.log(`${req.method} ${path}: ${(e as Error).stack ?? e}`);
        sendError(new ClientError(500, `internal error: ${(e as Error).message}`, null, 'internal_error'));
      }
    } finally {
      clearTimeout(timer);
      if (!timeout.signal.aborted) timeout.abort(new Error('request finished'));
      this.metrics.requests.inc({ route, status: String(status) });
      this.metrics.latency.observe({ route }, (performance.now() - t0) / 1000);
    }
  }

  private authorize(req: IncomingMessage): void {
    if (!this.keyHash) return;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = m ? createHash('sha256').update(m[1]!.trim()).digest() : null;
    if (!given || !timingSafeEqual(given, this.keyHash)) {
      throw new ClientError(401, m ? 'the API key is wrong' : 'this server needs "Authorization: Bearer <api key>"', null, 'invalid_api_key', { 'www-authenticate': 'Bearer' });
    }
  }

  /**
   * The body as JSON, at most maxBodyBytes. A body over the limit is read on and discarded up to 64 MiB more, so
   * that the client, still sending, gets the 413 rather than a broken pipe; past that the connection is closed.
   */
  private readJson(req: IncomingMessage): Promise<unknown> {
    const max = this.o.maxBodyBytes;
    const drainCap = max + (64 << 20);
    const declared = Number(req.headers['content-length'] ?? NaN);
    const tooBig = () => new ClientError(413, `the request body is over the limit of ${max} bytes`, null, 'body_too_large', { connection: 'close' });
    if (declared > drainCap) return Promise.reject(tooBig());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      let done = false;
      req.on('data', (c: Buffer) => {
        if (done) return;
        n += c.length;
        if (n > drainCap) {
          done = true;
          reject(tooBig());
        } else if (n > max) {
          chunks.length = 0; // over the limit: discard until the end
        } else {
          chunks.push(c);
        }
      });
      req.on('error', (e) => {
        if (!done) reject(bad(`reading the request failed: ${e.message}`));
        done = true;
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        if (n > max) return reject(tooBig());
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return reject(bad('the request body is empty; send a JSON object'));
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(bad(`the request body is not valid JSON: ${(e as Error).message}`));
        }
      });
    });
  }

  private checkModel(body: Record<string, unknown>): void {
    const m = body.model;
    if (m === undefined || m === null) return;
    if (typeof m !== 'string') throw bad('"model" must be a string', 'model');
    const name = this.o.servedModelName;
    if (m !== name && m !== name.split('/').filter(Boolean).pop()) {
      throw new ClientError(404, `model ${JSON.stringify(m)} is not served here; this server has ${JSON.stringify(name)}`, 'model', 'model_not_found');
    }
  }

  private truncateFlag(body: Record<string, unknown>): boolean {
    if (body.truncate === undefined) return false;
    if (typeof body.truncate !== 'boolean') throw bad('"truncate" must be true or false', 'truncate');
    return body.truncate;
  }

  private async embeddings(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    this.checkModel(body);
    const enc = body.encoding_format ?? 'float';
    if (enc !== 'float' && enc !== 'base64') throw bad(`"encoding_format" must be "float" or "base64", got ${JSON.stringify(enc)}`, 'encoding_format');
    if (body.dimensions !== undefined && body.dimensions !== this.model.embedDim) {
      throw bad(`"dimensions": this model gives ${this.model.embedDim}-dimensional embeddings and cannot shorten them`, 'dimensions');
    }
    const items = parseEmbeddingInput(body.input, this.limits);
    const { rows, tokens } = await this.embedItems(items, this.truncateFlag(body), signal);
    return {
      object: 'list',
      data: rows.map((r, index) => ({ object: 'embedding', index, embedding: enc === 'base64' ? float32Base64(r) : Array.from(r) })),
      model: this.o.servedModelName,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  private async classify(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    this.checkModel(body);
    const labels = body.labels;
    if (!Array.isArray(labels) || labels.length === 0) throw bad('"labels" must be a non-empty array of strings', 'labels');
    if (labels.length > this.o.maxItems) throw new ClientError(413, `"labels" has ${labels.length} items, over the limit of ${this.o.maxItems}`, 'labels', 'too_many_items');
    const template = body.template === undefined ? 'This is a photo of {}.' : checkText(body.template, 'template', this.limits);
    if (!template.includes('{}')) throw bad(`"template" has no {} for the label: ${JSON.stringify(template)}`, 'template');
    if (body.image === undefined) throw bad('"image" is required', 'image');
    const items: Item[] = [
      { kind: 'image', image: parseImage(body.image, 'image', this.limits), param: 'image' },
      ...labels.map((l, i): Item => ({ kind: 'text', text: template.split('{}').join(checkText(l, `labels[${i}]`, this.limits)), param: `labels[${i}]` })),
    ];
    // classify truncates label prompts silently, as the library's classify() and transformers' pipeline do.
    const { rows } = await this.embedItems(items, true, signal);
    const img = rows[0]!;
    const scale = Math.exp(this.model.logitScale);
    const scores = (labels as string[]).map((label, i) => {
      const t = rows[i + 1]!;
      let s = 0;
      for (let k = 0; k < img.length; k++) s += t[k]! * img[k]!;
      return { label, score: sigmoid(Math.fround(s * scale + this.model.logitBias)) };
    });
    scores.sort((a, b) => b.score - a.score);
    return { object: 'classification', model: this.o.servedModelName, scores };
  }

  private async search(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    if (!this.searcher) throw new ClientError(404, 'this server has no index; start it with --index DIR', null, 'no_index');
    this.checkModel(body);
    const k = body.top_k ?? 10;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 1000) throw bad('"top_k" must be an integer from 1 to 1000', 'top_k');
    if (('text' in body) === ('image' in body)) throw bad('give exactly one of "text" and "image"');
    const item: Item = 'text' in body ? { kind: 'text', text: checkText(body.text, 'text', this.limits), param: 'text' } : { kind: 'image', image: parseImage(body.image, 'image', this.limits), param: 'image' };
    const { rows } = await this.embedItems([item], this.truncateFlag(body), signal);
    const [hits] = await this.searcher.search(rows[0]!, k);
    const scale = Math.exp(this.model.logitScale);
    return {
      object: 'list',
      model: this.o.servedModelName,
      searched: this.searcher.reader.count,
      data: hits!.map((h) => ({
        path: h.path,
        score: h.score,
        ...(item.kind === 'text' ? { probability: sigmoid(h.score * scale + this.model.logitBias) } : {}),
        width: h.meta.width,
        height: h.meta.height,
      })),
    };
  }

  /** Stops accepting, lets requests in flight finish (at most drainTimeoutMs), then frees the decode workers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.draining = true;
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      this.server.closeIdleConnections();
      const deadline = new Promise<void>((r) => setTimeout(r, this.o.drainTimeoutMs).unref());
      await Promise.race([(async () => {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      })(), deadline]);
      this.server.closeAllConnections();
      await closed;
      await Promise.race([Promise.all([this.text.drain(), this.vision.drain()]), deadline]);
      this.searcher?.dispose();
      await this.pool.close();
    })();
    return this.closing;
  }
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
