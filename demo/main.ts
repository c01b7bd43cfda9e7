/**
 * The browser demo (demo/index.html): pick a SigLIP checkpoint (hub id, base URL, or local files), then either add
 * images and labels and see zero-shot scores as bars, or index a photo folder and search it by text or by example
 * (photo-search.ts). The model runs in a Web Worker (siglip-webgpu/worker), so the page stays responsive while
 * weights load and photos are embedded; what the browser keeps (weights, the photo index) is listed and can be
 * deleted (storage-panel.ts). Built by scripts/build.mjs into dist/demo/ (main.js and the worker's script, the
 * library bundled in) and served by scripts/serve-demo.mjs (`npm run demo`), with a strict Content-Security-Policy.
 *
 * URL parameters: ?model=<hub id or URL> preselects a model and loads it at once (e.g. ?model=/fixtures/siglip-tiny/);
 * ?view=search opens the photo search.
 * Everything that touches the GPU is async and runs one thing at a time: buttons are disabled while busy, and every
 * error is shown in the page. The test suite drives this page (test/browser/demo.test.ts) through its element ids and
 * data-state attributes; keep them stable.
 */
import { createEngine, DEFAULT_MODEL, PRESETS, SyntheticSource, type ClassifyResult, type LoadProgress, type ModelFiles } from '../src/index.js';
import { BROWSER_CACHE_NAME } from '../src/model/hub/index.js';
import { SiglipWorkerModel } from '../src/worker.js';
import { el, formatBytes, formatMs, h, message } from './dom.js';
import { PhotoSearch } from './photo-search.js';
import { StoragePanel } from './storage-panel.js';

const SAMPLE_IMAGE = '/fixtures/images/cats.png';
const DEFAULT_TEMPLATE = 'This is a photo of {}.';

// ---------------------------------------------------------------------------------------------------------------
// Elements

const ui = {
  gpu: el('gpu'),
  gpuText: el('gpu-text'),
  error: el('error'),
  errorTitle: el('error-title'),
  errorText: el('error-text'),
  errorClose: el<HTMLButtonElement>('error-close'),
  gpuNotice: el('gpu-notice'),
  gpuNoticeTitle: el('gpu-notice-title'),
  gpuNoticeText: el('gpu-notice-text'),
  tabHub: el<HTMLButtonElement>('tab-hub'),
  tabFiles: el<HTMLButtonElement>('tab-files'),
  panelHub: el('panel-hub'),
  panelFiles: el('panel-files'),
  modelPicker: el<HTMLSelectElement>('model-picker'),
  modelRef: el<HTMLInputElement>('model-ref'),
  loadBtn: el<HTMLButtonElement>('load-btn'),
  clearCacheBtn: el<HTMLButtonElement>('clear-cache-btn'),
  cacheInfo: el('cache-info'),
  modelDrop: el('model-drop'),
  modelFiles: el<HTMLInputElement>('model-files'),
  modelFileList: el('model-file-list'),
  loadFilesBtn: el<HTMLButtonElement>('load-files-btn'),
  dtype: el<HTMLSelectElement>('dtype'),
  maxPatches: el<HTMLSelectElement>('max-patches'),
  maxPatchesLabel: el('max-patches-label'),
  progress: el('progress'),
  progressFill: el('progress-fill'),
  progressText: el('progress-text'),
  modelStatus: el('model-status'),
  imageDrop: el('image-drop'),
  imageFiles: el<HTMLInputElement>('image-files'),
  sampleBtn: el<HTMLButtonElement>('sample-btn'),
  thumbs: el('thumbs'),
  labels: el<HTMLInputElement>('labels'),
  template: el<HTMLInputElement>('template'),
  classifyBtn: el<HTMLButtonElement>('classify-btn'),
  results: el('results'),
  resultsSummary: el('results-summary'),
  tabLabels: el<HTMLButtonElement>('view-labels-tab'),
  tabSearch: el<HTMLButtonElement>('view-search-tab'),
  viewLabels: el('view-labels'),
  viewSearch: el('view-search'),
};

// ---------------------------------------------------------------------------------------------------------------
// State

interface DemoImage {
  id: number;
  name: string;
  blob: Blob;
  url: string;
}

let engineError: string | null = null;
let model: SiglipWorkerModel | null = null;
let modelName = '';
let busy = false;
let images: DemoImage[] = [];
let nextImageId = 1;
let localModelFiles: File[] = [];

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** Scores as displayed: 4 decimals, or 2 significant digits below 1e-4 (SigLIP's sigmoid scores get tiny). */
function formatScore(s: number): string {
  return s >= 1e-4 || s === 0 ? s.toFixed(4) : s.toExponential(1);
}

const photoSearch = new PhotoSearch({ showError: (title, e) => showError(title, e), onChange: () => void storage.render() });
const storage = new StoragePanel({
  showError: (title, e) => showError(title, e),
  // Deleting the current model's photo index empties the search view too.
  onIndexDeleted: (key) => photoSearch.forget(key),
});

function showError(title: string, e: unknown): void {
  ui.errorTitle.textContent = title;
  ui.errorText.textContent = message(e);
  ui.error.hidden = false;
  console.error(title, e);
}

/** A lasting notice (unlike errors, which the next action clears): why this page cannot run models. */
function showGpuNotice(title: string, text: string): void {
  ui.gpuNoticeTitle.textContent = title;
  ui.gpuNoticeText.textContent = text;
  ui.gpuNotice.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
}

/** Runs `fn` with every action button disabled; errors land in the page under `title`. */
async function whileBusy(title: string, fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  document.body.dataset.busy = 'true';
  updateButtons();
  clearError();
  try {
    await fn();
  } catch (e) {
    showError(title, e);
  } finally {
    busy = false;
    delete document.body.dataset.busy;
    updateButtons();
  }
}

function updateButtons(): void {
  const gpuOk = !engineError;
  ui.loadBtn.disabled = busy || !gpuOk;
  ui.loadFilesBtn.disabled = busy || !gpuOk || !pickModelFiles(localModelFiles).ok;
  ui.sampleBtn.disabled = busy;
  ui.imageFiles.disabled = busy;
  ui.modelFiles.disabled = busy;
  ui.clearCacheBtn.disabled = busy;
  ui.dtype.disabled = busy;
  ui.classifyBtn.disabled = busy || !model || images.length === 0;
  for (const b of ui.thumbs.querySelectorAll('button')) (b as HTMLButtonElement).disabled = busy;
  ui.classifyBtn.title = !model ? 'Load a model first' : images.length === 0 ? 'Add an image first' : '';
}

// ---------------------------------------------------------------------------------------------------------------
// WebGPU adapter

async function initGpu(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    engineError =
      'This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113+ (on Linux: start Chromium with ' +
      '--enable-unsafe-webgpu, or enable chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows, ' +
      `and open the page over https or from localhost${window.isSecureContext ? '' : ' (this page is not a secure context)'}.`;
    ui.gpu.dataset.state = 'error';
    ui.gpuText.textContent = 'WebGPU unavailable';
    showGpuNotice('WebGPU is not available', engineError);
    return;
  }
  try {
    // An engine on the page, only to describe the adapter; models run in their worker, on an engine of their own.
    const engine = await createEngine();
    engine.dispose();
    const f16 = engine.hasF16;
    ui.gpu.dataset.state = 'ok';
    ui.gpuText.textContent = `${engine.info.name}${engine.info.isCpu ? ' (CPU, slow)' : ''}`;
    ui.gpu.title = `WebGPU adapter: ${engine.info.name}\nshader-f16: ${f16 ? 'yes' : 'no'}\nmax invocations per workgroup: ${engine.limits.maxComputeInvocationsPerWorkgroup}\nmax storage binding: ${formatBytes(engine.limits.maxStorageBufferBindingSize)}`;
    const f16Option = ui.dtype.querySelector<HTMLOptionElement>('option[value="f16"]')!;
    f16Option.disabled = !f16;
    if (!f16) f16Option.textContent = 'f16 (no shader-f16 here)';
  } catch (e) {
    engineError = message(e);
    ui.gpu.dataset.state = 'error';
    ui.gpuText.textContent = 'No WebGPU adapter';
    showGpuNotice('WebGPU has no adapter', `${engineError} Models cannot run in this browser.`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Model loading

/** The progress line: the file being downloaded (its bytes), then the upload of all weights to the GPU. Renders at
 *  most once per animation frame, however many events arrive. */
class ProgressView {
  private last: LoadProgress | null = null;
  private frame = 0;
  /** Whether weights came over the network (else from the browser cache or local files). */
  downloaded = false;

  start(label: string): void {
    this.last = null;
    this.downloaded = false;
    ui.progress.hidden = false;
    ui.progress.dataset.phase = 'start';
    ui.progressFill.style.width = '0%';
    ui.progressText.textContent = label;
  }

  update = (p: LoadProgress): void => {
    this.last = p;
    if (p.phase === 'download' && p.file && /\.safetensors$/.test(p.file)) this.downloaded = true;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  };

  private render(): void {
    this.frame = 0;
    const p = this.last;
    if (!p) return;
    // Download events are per file; load events count all weights.
    const pct = p.total > 0 ? Math.min(100, (100 * p.loaded) / p.total) : 0;
    ui.progress.dataset.phase = p.phase;
    ui.progressFill.style.width = `${pct.toFixed(1)}%`;
    const what = p.phase === 'download' ? `Downloading ${p.file ?? 'files'}` : 'Uploading weights to the GPU';
    ui.progressText.textContent = p.total > 0 ? `${what}: ${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${pct.toFixed(1)}%)` : `${what}: ${formatBytes(p.loaded)}`;
  }

  finish(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    ui.progress.hidden = true;
  }
}

const progress = new ProgressView();

function setModelStatus(state: 'none' | 'loading' | 'ready' | 'error', html: (Node | string)[]): void {
  ui.modelStatus.dataset.state = state;
  ui.modelStatus.replaceChildren(...html);
}

async function loadModel(ref: string | ModelFiles, name: string): Promise<void> {
  await whileBusy(`Could not load ${name}`, async () => {
    const dtype = ui.dtype.value === 'f16' ? 'f16' : 'f32';
    if (model) {
      const old = model;
      model = null;
      photoSearch.setModel(null, '');
      updateButtons();
      await old.dispose();
    }
    setModelStatus('loading', [`Loading ${name}…`]);
    progress.start(`Fetching ${name}…`);
    const t0 = performance.now();
    try {
      // In a Web Worker: the download, the upload of weights and every pass run off this thread.
      const m = await SiglipWorkerModel.load(ref, { dtype, onProgress: progress.update });
      const ms = performance.now() - t0;
      model = m;
      modelName = name;
      const cfg = m.config;
      const cached = typeof ref === 'string' && !progress.downloaded;
      // NaFlex models take a patch budget per image; the others a fixed size.
      ui.maxPatchesLabel.hidden = !cfg.vision.naflex;
      setModelStatus('ready', [
        h('strong', { text: name }),
        ` loaded in ${formatMs(ms)}`,
        h('span', { class: 'meta', text: [
          cfg.vision.naflex ? `NaFlex: any aspect ratio, ${m.maxNumPatches} patches of ${cfg.vision.patchSize}px by default` : `vision ${cfg.vision.imageSize}px / patch ${cfg.vision.patchSize}`,
          `width ${cfg.vision.hiddenSize}`,
          `${formatBytes(m.weightBytes)} on the GPU (${m.dtype})`,
          typeof ref === 'string' ? (cached ? 'weights from the browser cache' : 'weights downloaded and cached') : 'from local files',
          'in a Web Worker',
        ].join(' · ') }),
      ]);
      ui.modelStatus.dataset.loadMs = ms.toFixed(1);
      void showCacheUsage();
      void storage.render();
      await photoSearch.setModel(m, modelKey(ref, dtype));
    } catch (e) {
      setModelStatus('error', [`${name}: not loaded.`]);
      void storage.render();
      throw e;
    } finally {
      progress.finish();
    }
  });
}

/** What the photo index is kept under: the model (a reference, or local files by name, size and time) and dtype. */
function modelKey(ref: string | ModelFiles, dtype: string): string {
  if (typeof ref === 'string') return `${ref}|${dtype}`;
  const w = ref.weights as File | string;
  return typeof w === 'string' ? `${w}|${dtype}` : `files:${w.name}:${w.size}:${w.lastModified}|${dtype}`;
}

function loadFromInput(): void {
  const ref = ui.modelRef.value.trim() || DEFAULT_MODEL;
  ui.modelRef.value = ref;
  void loadModel(ref, ref);
}

/** Local files → the library's browser form; says what is missing. */
function pickModelFiles(files: File[]): { ok: boolean; files?: ModelFiles; missing: string[]; roles: Map<File, string> } {
  const roles = new Map<File, string>();
  const byName = (n: string) => files.find((f) => f.name === n);
  const config = byName('config.json');
  const weights = byName('model.safetensors') ?? files.find((f) => f.name.endsWith('.safetensors'));
  const tokenizer = byName('spiece.model') ?? byName('tokenizer.model') ?? byName('tokenizer.json');
  const preprocessor = byName('preprocessor_config.json');
  const tokenizerConfig = byName('tokenizer_config.json');
  if (config) roles.set(config, 'config');
  if (weights) roles.set(weights, 'weights');
  if (tokenizer) roles.set(tokenizer, 'tokenizer');
  if (preprocessor) roles.set(preprocessor, 'preprocessor');
  if (tokenizerConfig) roles.set(tokenizerConfig, 'tokenizer config');
  const missing: string[] = [];
  if (!config) missing.push('config.json');
  if (!weights) missing.push('model.safetensors');
  if (!tokenizer) missing.push('spiece.model or tokenizer.model (needed for labels)');
  if (!preprocessor) missing.push('preprocessor_config.json (optional)');
  if (!config || !weights) return { ok: false, missing, roles };
  return {
    ok: true,
    missing,
    roles,
    files: { config, weights, ...(tokenizer ? { tokenizer } : {}), ...(preprocessor ? { preprocessor } : {}), ...(tokenizerConfig ? { tokenizerConfig } : {}) },
  };
}

function addModelFiles(list: Iterable<File>): void {
  const incoming = [...list];
  // A newly picked file replaces one of the same name.
  localModelFiles = [...localModelFiles.filter((f) => !incoming.some((g) => g.name === f.name)), ...incoming];
  renderModelFiles();
}

function renderModelFiles(): void {
  const pick = pickModelFiles(localModelFiles);
  const items = localModelFiles.map((f) => {
    const role = pick.roles.get(f);
    return h('li', { class: role ? 'used' : 'ignored' }, h('span', { class: 'name', text: f.name }), h('span', { class: 'role', text: role ? `${role} · ${formatBytes(f.size)}` : 'not used' }));
  });
  for (const m of pick.missing) items.push(h('li', { class: 'missing' }, h('span', { class: 'name', text: m }), h('span', { class: 'role', text: 'missing' })));
  ui.modelFileList.replaceChildren(...(localModelFiles.length ? items : []));
  updateButtons();
}

function loadFromFiles(): void {
  const pick = pickModelFiles(localModelFiles);
  if (!pick.ok || !pick.files) return showError('Cannot load the local files', `missing: ${pick.missing.join(', ')}`);
  const weights = pick.files.weights as File;
  void loadModel(pick.files, `local files (${weights.name})`);
}

async function showCacheUsage(): Promise<void> {
  try {
    const est = await navigator.storage?.estimate?.();
    ui.cacheInfo.textContent = est?.usage ? `(this site stores ${formatBytes(est.usage)})` : '';
  } catch {
    ui.cacheInfo.textContent = '';
  }
}

async function clearCache(): Promise<void> {
  await whileBusy('Could not clear the cache', async () => {
    if (typeof caches === 'undefined') throw new Error('this browser has no Cache API here (an insecure context?)');
    const had = await caches.delete(BROWSER_CACHE_NAME);
    ui.cacheInfo.textContent = had ? '(cleared)' : '(nothing cached)';
    await storage.render();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Images

function addImages(list: Iterable<Blob & { name?: string }>): void {
  let added = 0;
  for (const f of list) {
    if (f.type && !f.type.startsWith('image/')) {
      showError('Not an image', `${f.name ?? 'file'} (${f.type}) is not an image; drop PNG, JPEG, WebP, GIF or BMP files.`);
      continue;
    }
    images.push({ id: nextImageId++, name: f.name ?? `image ${nextImageId}`, blob: f, url: URL.createObjectURL(f) });
    added++;
  }
  if (added) renderThumbs();
}

function removeImage(id: number): void {
  const img = images.find((i) => i.id === id);
  if (img) URL.revokeObjectURL(img.url);
  images = images.filter((i) => i.id !== id);
  renderThumbs();
}

function renderThumbs(): void {
  ui.thumbs.replaceChildren(
    ...images.map((img) => {
      const remove = h('button', { class: 'icon remove', type: 'button', 'aria-label': `Remove ${img.name}`, title: 'Remove' }, '×');
      remove.addEventListener('click', () => removeImage(img.id));
      return h('figure', { class: 'thumb', 'data-id': String(img.id) }, h('img', { src: img.url, alt: img.name }), h('figcaption', { text: img.name }), remove);
    }),
  );
  ui.imageDrop.classList.toggle('has-images', images.length > 0);
  updateButtons();
}

async function addSampleImage(): Promise<void> {
  await whileBusy('Could not load the sample image', async () => {
    const res = await fetch(SAMPLE_IMAGE);
    if (!res.ok) throw new Error(`${SAMPLE_IMAGE}: HTTP ${res.status} ${res.statusText}`);
    const blob = await res.blob();
    addImages([new File([blob], 'cats.png', { type: blob.type || 'image/png' })]);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Classification

function parseLabels(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function renderScores(scores: ClassifyResult[]): HTMLElement {
  const best = scores[0]?.score ?? 0;
  return h(
    'ol',
    { class: 'scores' },
    ...scores.map((s) => {
      const fill = h('div', { class: 'fill' });
      fill.style.width = `${Math.max(0, Math.min(1, s.score)) * 100}%`;
      return h(
        'li',
        { class: `score-row${s.score === best ? ' best' : ''}`, 'data-score': String(s.score) },
        h('span', { class: 'label', text: s.label, title: s.label }),
        h('div', { class: 'track' }, fill),
        h('span', { class: 'score', text: formatScore(s.score) }),
      );
    }),
  );
}

async function classifyAll(): Promise<void> {
  await whileBusy('Classification failed', async () => {
    if (!model) throw new Error('load a model first');
    const labels = parseLabels(ui.labels.value);
    if (labels.length === 0) throw new Error('type at least one label (comma-separated)');
    const template = ui.template.value.trim() || DEFAULT_TEMPLATE;
    if (!template.includes('{}')) throw new Error(`the template "${template}" has no {} where the label goes`);
    const m = model;
    const cards = images.map((img) => {
      const body = h('div', { class: 'result-body' }, h('p', { class: 'pending', text: 'Waiting…' }));
      const time = h('span', { class: 'time' });
      const card = h(
        'article',
        { class: 'result', 'data-state': 'pending', 'data-image': img.name },
        h('img', { src: img.url, alt: img.name }),
        h('div', { class: 'result-main' }, h('header', {}, h('span', { class: 'name', text: img.name }), time), body),
      );
      return { img, card, body, time };
    });
    ui.results.replaceChildren(...cards.map((c) => c.card));
    ui.resultsSummary.textContent = `${modelName} · ${labels.length} label${labels.length > 1 ? 's' : ''}`;
    const t0 = performance.now();
    let failed = 0;
    for (const c of cards) {
      c.card.dataset.state = 'running';
      c.body.replaceChildren(h('p', { class: 'pending', text: 'Classifying…' }));
      const t = performance.now();
      try {
        const maxNumPatches = m.config.vision.naflex && ui.maxPatches.value ? Number(ui.maxPatches.value) : undefined;
        const scores = await m.classify(c.img.blob, labels, { template, maxNumPatches });
        const ms = performance.now() - t;
        c.time.textContent = formatMs(ms);
        c.card.dataset.ms = ms.toFixed(1);
        c.body.replaceChildren(renderScores(scores));
        c.card.dataset.state = 'done';
      } catch (e) {
        failed++;
        c.card.dataset.state = 'error';
        c.body.replaceChildren(h('p', { class: 'item-error', text: message(e) }));
      }
    }
    const total = performance.now() - t0;
    ui.resultsSummary.textContent = `${modelName} · ${labels.length} label${labels.length > 1 ? 's' : ''} · ${cards.length} image${cards.length > 1 ? 's' : ''} in ${formatMs(total)}`;
    ui.results.dataset.state = 'done';
    if (failed) throw new Error(`${failed} of ${cards.length} images could not be classified (see their cards)`);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

function selectView(search: boolean): void {
  ui.tabLabels.setAttribute('aria-selected', String(!search));
  ui.tabSearch.setAttribute('aria-selected', String(search));
  ui.viewLabels.hidden = search;
  ui.viewSearch.hidden = !search;
  const url = new URL(location.href);
  if (search) url.searchParams.set('view', 'search');
  else url.searchParams.delete('view');
  history.replaceState(null, '', url);
}

function selectTab(files: boolean): void {
  ui.tabHub.setAttribute('aria-selected', String(!files));
  ui.tabFiles.setAttribute('aria-selected', String(files));
  ui.panelHub.hidden = files;
  ui.panelFiles.hidden = !files;
}

function dropZone(zone: HTMLElement, onFiles: (files: File[]) => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (busy) return;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
}

function wire(): void {
  ui.errorClose.addEventListener('click', clearError);
  ui.tabLabels.addEventListener('click', () => selectView(false));
  ui.tabSearch.addEventListener('click', () => selectView(true));
  ui.tabHub.addEventListener('click', () => selectTab(false));
  ui.tabFiles.addEventListener('click', () => selectTab(true));
  ui.loadBtn.addEventListener('click', loadFromInput);
  // The picker fills the id box; Load (or Enter) loads it, so a multi-GB download never starts by accident.
  ui.modelPicker.addEventListener('change', () => {
    if (ui.modelPicker.value) ui.modelRef.value = ui.modelPicker.value;
  });
  ui.modelRef.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !ui.loadBtn.disabled) loadFromInput();
  });
  ui.clearCacheBtn.addEventListener('click', () => void clearCache());
  ui.modelFiles.addEventListener('change', () => {
    addModelFiles(ui.modelFiles.files ?? []);
    ui.modelFiles.value = '';
  });
  ui.loadFilesBtn.addEventListener('click', loadFromFiles);
  dropZone(ui.modelDrop, addModelFiles);
  ui.imageFiles.addEventListener('change', () => {
    addImages(ui.imageFiles.files ?? []);
    ui.imageFiles.value = '';
  });
  dropZone(ui.imageDrop, addImages);
  ui.sampleBtn.addEventListener('click', () => void addSampleImage());
  ui.classifyBtn.addEventListener('click', () => void classifyAll());
  for (const input of [ui.labels, ui.template]) {
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !ui.classifyBtn.disabled) void classifyAll();
    });
  }
  // A file dropped next to a zone must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  window.addEventListener('unhandledrejection', (e) => showError('Unexpected error', e.reason));
  window.addEventListener('error', (e) => showError('Unexpected error', e.error ?? e.message));
}

/** The picker's labels get each checkpoint's size, computed from its preset config (not typed by hand). */
function labelPicker(): void {
  for (const opt of ui.modelPicker.querySelectorAll('option')) {
    const name = opt.value.replace(/^google\//, '');
    if (!opt.value.startsWith('google/') || !PRESETS[name]) continue;
    const bytes = new SyntheticSource(PRESETS[name]!).weightsBytes;
    opt.textContent = `${name} · ${(bytes / 4 / 1e6).toFixed(0)}M parameters · ${(bytes / 1e9).toFixed(1)} GB in f32`;
  }
}

async function main(): Promise<void> {
  wire();
  labelPicker();
  updateButtons();
  const params = new URLSearchParams(location.search);
  const preset = params.get('model');
  if (preset) ui.modelRef.value = preset;
  selectView(params.get('view') === 'search');
  void storage.render();
  await initGpu();
  updateButtons();
  void showCacheUsage();
  document.body.dataset.ready = 'true';
  if (preset && !engineError) await loadModel(preset, preset);
}

void main();
