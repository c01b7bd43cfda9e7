/**
 * The demo's photo search: index a folder of photos with the loaded model (in its worker), then find photos by what
 * they show — a text query ranks the whole collection by the SigLIP image–text similarity — or by example ("more
 * like this": another photo's embedding as the query). Nothing leaves the browser.
 *
 * Indexing: files from a folder picker (the File System Access API where present, else <input webkitdirectory>),
 * a file picker, or a drop; those already in the index (photo-store.ts: same model, path, size and last-modified)
 * are shown at once and not embedded again; the rest go to the worker in batches (embedImagesSettled: decoding,
 * a thumbnail and the embedding there), with a progress bar and their thumbnails appearing as each batch is done.
 * Files that are not images, or that cannot be decoded, are listed with the reason; they never stop the rest.
 *
 * Ranking: the score is the dot product of L2-normalized embeddings (the cosine similarity; SigLIP's logit is this
 * times exp(logit_scale) plus logit_bias, the same order), best first, ties by path; the same numbers Node's
 * embedImages / embedTexts give (test/browser/photo-search.test.ts checks the ranking against Node's).
 *
 * The test suite drives this view through its element ids and data attributes; keep them stable.
 */
import type { SiglipWorkerModel } from '../src/worker.js';
import { el, formatMs, h, message } from './dom.js';
import { canRead, fromDirectoryHandle, fromDrop, fromInput, hasDirectoryPicker, isImage, pickDirectory, type PickedFile } from './photo-files.js';
import { deletePhotos, getPhotos, photoKey, photosOf, putPhotos, saveFolder, savedFolder, type PhotoRecord } from './photo-store.js';

/** Photos per call to the worker: one forward pass (and one progress step) each. */
const BATCH = 8;
/** Longer side of the thumbnails kept in the index. */
const THUMBNAIL = 192;
/** Results shown per query. */
export const TOP_K = 24;

interface Photo {
  key: string;
  path: string;
  embedding: Float32Array;
  url: string;
}

interface Skipped {
  path: string;
  reason: string;
}

export interface PhotoSearchHooks {
  showError(title: string, e: unknown): void;
  /** The index changed (the storage panel shows its size). */
  onChange(): void;
}

/** Photos ranked by similarity to a query embedding: best first, ties by path. */
export function rank<T extends { path: string; embedding: Float32Array }>(query: Float32Array, photos: T[]): { photo: T; score: number }[] {
  return photos
    .map((photo) => {
      let s = 0;
      for (let i = 0; i < query.length; i++) s += query[i]! * photo.embedding[i]!;
      return { photo, score: s };
    })
    .sort((a, b) => b.score - a.score || (a.photo.path < b.photo.path ? -1 : a.photo.path > b.photo.path ? 1 : 0));
}

export class PhotoSearch {
  private model: SiglipWorkerModel | null = null;
  private modelKey = '';
  private readonly photos = new Map<string, Photo>();
  private readonly skipped = new Map<string, Skipped>();
  private indexing = false;
  private searching = false;
  private lastQuery: { text: string } | { like: string } | null = null;
  /** Indexing runs finished (the status's data-run: what the tests wait for). */
  private runs = 0;

  private readonly ui = {
    card: el('photos-card'),
    count: el('photo-count'),
    drop: el('photo-drop'),
    pickFolder: el<HTMLButtonElement>('pick-folder-btn'),
    folderInput: el<HTMLInputElement>('photo-folder'),
    filesInput: el<HTMLInputElement>('photo-files'),
    rescan: el<HTMLButtonElement>('rescan-btn'),
    clear: el<HTMLButtonElement>('clear-index-btn'),
    progress: el('index-progress'),
    progressFill: el('index-progress-fill'),
    progressText: el('index-progress-text'),
    status: el('index-status'),
    skipped: el<HTMLDetailsElement>('skipped'),
    skippedSummary: el('skipped-summary'),
    skippedList: el('skipped-list'),
    collection: el('collection'),
    query: el<HTMLInputElement>('query'),
    search: el<HTMLButtonElement>('search-btn'),
    queryInfo: el('query-info'),
    results: el('search-results'),
  };

  constructor(private readonly hooks: PhotoSearchHooks) {
    this.wire();
    this.update();
    void this.showSavedFolder();
  }

  /** The model photos are embedded with (null: none loaded); its index is read from IndexedDB and shown. */
  async setModel(model: SiglipWorkerModel | null, key: string): Promise<void> {
    this.model = model;
    this.modelKey = key;
    this.clearView();
    if (model) {
      try {
        const records = await photosOf(key);
        // A path indexed again after its file changed has two records: the newer one counts.
        records.sort((a, b) => a.addedAt - b.addedAt);
        for (const r of records) this.add(r);
        this.renderCollection();
        this.renderSkipped();
        this.setStatus('ready', records.length ? `${this.photos.size} photos in the index of this model (kept in this browser).` : 'No photos indexed with this model yet.');
        this.ui.status.dataset.embedded = '0';
        this.ui.status.dataset.cached = String(this.photos.size);
      } catch (e) {
        this.hooks.showError('Could not read the photo index', e);
      }
    } else this.setStatus('none', 'Load a model (step 1) to index and search photos.');
    this.update();
  }

  /** The index of `key` was deleted elsewhere (the storage panel): empty the view if it is this model's. */
  forget(key: string): void {
    if (key !== this.modelKey) return;
    this.clearView();
    this.setStatus('ready', 'The index of this model was deleted.');
    this.update();
  }

  private clearView(): void {
    for (const p of this.photos.values()) URL.revokeObjectURL(p.url);
    this.photos.clear();
    this.skipped.clear();
    this.lastQuery = null;
    this.renderCollection();
    this.renderSkipped();
    this.ui.results.replaceChildren(h('p', { class: 'empty', text: 'Type what you are looking for, or pick “More like this” on a photo.' }));
    this.ui.queryInfo.textContent = '';
    delete this.ui.results.dataset.state;
  }

  private add(r: PhotoRecord): void {
    if (r.embedding) {
      this.skipped.delete(r.path);
      const old = this.photos.get(r.path);
      if (old) URL.revokeObjectURL(old.url);
      const url = r.thumbnail ? URL.createObjectURL(r.thumbnail) : '';
      this.photos.set(r.path, { key: r.key, path: r.path, embedding: r.embedding, url });
    } else {
      this.photos.delete(r.path);
      this.skipped.set(r.path, { path: r.path, reason: `${r.errorName ?? 'Error'}: ${r.error ?? 'could not be read'}` });
    }
  }

  private update(): void {
    const noModel = !this.model;
    for (const b of [this.ui.pickFolder, this.ui.rescan]) b.disabled = noModel || this.indexing;
    this.ui.folderInput.disabled = this.ui.filesInput.disabled = noModel || this.indexing;
    this.ui.clear.disabled = noModel || this.indexing || this.photos.size + this.skipped.size === 0;
    this.ui.search.disabled = noModel || this.searching || this.photos.size === 0;
    this.ui.search.title = noModel ? 'Load a model first' : this.photos.size === 0 ? 'Index some photos first' : '';
    this.ui.card.dataset.indexing = String(this.indexing);
    this.ui.count.textContent = this.photos.size ? `${this.photos.size} photo${this.photos.size === 1 ? '' : 's'}` : '';
    for (const b of this.ui.collection.querySelectorAll('button')) (b as HTMLButtonElement).disabled = this.searching || noModel;
  }

  private setStatus(state: 'none' | 'indexing' | 'ready' | 'error', text: string): void {
    this.ui.status.dataset.state = state;
    this.ui.status.textContent = text;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Indexing

  /** Indexes these files (skipping those already in the index); `source` names them for the status line. */
  async index(files: PickedFile[], source: string): Promise<void> {
    if (this.indexing) return;
    const m = this.model;
    const key = this.modelKey;
    if (!m) return this.hooks.showError('No model', 'load a model first (step 1): photos are embedded by it');
    this.indexing = true;
    this.update();
    // The status says "indexing" from the first moment (nothing of an earlier run's figures stays on it).
    for (const k of ['embedded', 'cached', 'failed', 'unsupported', 'ms']) delete this.ui.status.dataset[k];
    this.setStatus('indexing', `Indexing ${source}…`);
    const t0 = performance.now();
    const counts = { embedded: 0, cached: 0, failed: 0, unsupported: 0 };
    try {
      const images = files.filter(isImage);
      for (const f of files.filter((x) => !isImage(x))) {
        counts.unsupported++;
        this.skipped.set(f.path, { path: f.path, reason: `not a photo this demo reads (${f.file.type || 'unknown type'}; it reads PNG, JPEG, WebP, AVIF, HEIC, GIF, BMP and TIFF)` });
      }
      const keys = images.map((f) => photoKey(key, f.path, f.file.size, f.file.lastModified));
      const known = await getPhotos(keys);
      const todo: { file: PickedFile; key: string }[] = [];
      images.forEach((f, i) => {
        const r = known[i];
        if (r) {
          counts.cached++;
          this.add(r);
        } else todo.push({ file: f, key: keys[i]! });
      });
      this.renderCollection();
      this.renderSkipped();
      this.showProgress(0, todo.length);
      this.setStatus('indexing', `Indexing ${source}: ${images.length} image files, ${counts.cached} already in the index…`);
      for (let b = 0; b < todo.length; b += BATCH) {
        if (this.model !== m) throw new Error('the model changed while indexing; pick the folder again to go on');
        const batch = todo.slice(b, b + BATCH);
        const results = await m.embedImagesSettled(batch.map((t) => t.file.file), { thumbnailSize: THUMBNAIL });
        const records: PhotoRecord[] = results.map((r, j) => {
          const { file, key: k } = batch[j]!;
          const base = { key: k, model: key, path: file.path, size: file.file.size, lastModified: file.file.lastModified, addedAt: Date.now() };
          if (r.status === 'fulfilled') {
            counts.embedded++;
            return { ...base, embedding: r.embedding, width: r.width, height: r.height, ...(r.thumbnail ? { thumbnail: r.thumbnail } : {}) };
          }
          counts.failed++;
          return { ...base, error: r.reason.message, errorName: r.reason.name };
        });
        await putPhotos(records);
        for (const r of records) this.add(r);
        this.renderCollection();
        this.renderSkipped();
        this.showProgress(Math.min(todo.length, b + BATCH), todo.length);
        this.update();
        if (this.lastQuery) await this.rerun();
      }
      const ms = performance.now() - t0;
      const parts = [`${counts.embedded} embedded now`, `${counts.cached} already in the index`];
      if (counts.failed) parts.push(`${counts.failed} could not be read`);
      if (counts.unsupported) parts.push(`${counts.unsupported} not photos`);
      this.setStatus('ready', `${source}: ${images.length} image files (${parts.join(', ')}) in ${formatMs(ms)}. ${this.photos.size} photos in the index.`);
      Object.assign(this.ui.status.dataset, { embedded: String(counts.embedded), cached: String(counts.cached), failed: String(counts.failed), unsupported: String(counts.unsupported), ms: ms.toFixed(0) });
    } catch (e) {
      this.setStatus('error', `Indexing stopped: ${message(e)}`);
      this.hooks.showError('Indexing stopped', e);
    } finally {
      this.indexing = false;
      this.ui.status.dataset.run = String(++this.runs);
      this.ui.progress.hidden = true;
      this.update();
      this.hooks.onChange();
    }
  }

  private showProgress(done: number, total: number): void {
    this.ui.progress.hidden = total === 0;
    const pct = total ? (100 * done) / total : 100;
    this.ui.progressFill.style.width = `${pct.toFixed(1)}%`;
    this.ui.progressText.textContent = `Embedding photos in the worker: ${done} of ${total}`;
    this.ui.progress.dataset.done = String(done);
  }

  private renderCollection(): void {
    const photos = [...this.photos.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    this.ui.collection.replaceChildren(...photos.map((p) => this.figure(p, null)));
    this.ui.collection.dataset.count = String(photos.length);
  }

  private renderSkipped(): void {
    const list = [...this.skipped.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    this.ui.skipped.hidden = list.length === 0;
    this.ui.skippedSummary.textContent = `${list.length} file${list.length === 1 ? '' : 's'} not indexed`;
    this.ui.skippedList.replaceChildren(...list.map((s) => h('li', { 'data-path': s.path }, h('span', { class: 'name', text: s.path, title: s.path }), h('span', { class: 'role', text: s.reason, title: s.reason }))));
  }

  /** A photo tile: its thumbnail, its path, its score (in results), and "More like this". */
  private figure(p: Photo, score: number | null): HTMLElement {
    const name = p.path.slice(p.path.lastIndexOf('/') + 1);
    // "More like this": the tiles of the collection are small, so a shorter word there.
    const more = h('button', { class: 'more', type: 'button', title: `More like this: photos like ${name}` }, score === null ? 'Similar' : 'More like this');
    more.addEventListener('click', () => void this.moreLike(p));
    const img = p.url ? h('img', { src: p.url, alt: name, loading: 'lazy' }) : h('div', { class: 'no-thumb', text: name });
    const caption = h('figcaption', {}, h('span', { class: 'name', text: name, title: p.path }));
    if (score !== null) caption.append(h('span', { class: 'score', text: score.toFixed(4) }));
    const fig = h('figure', { class: 'photo', 'data-path': p.path }, img, caption, more);
    if (score !== null) fig.dataset.score = String(score);
    return fig;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Search

  private async run(query: { text: string } | { like: string }): Promise<void> {
    const m = this.model;
    if (!m || this.searching) return;
    this.searching = true;
    this.update();
    this.ui.results.dataset.state = 'running';
    try {
      const t0 = performance.now();
      let q: Float32Array;
      let info: (Node | string)[];
      let exclude = '';
      if ('text' in query) {
        q = await m.embedTexts([query.text]);
        info = [`“${query.text}”`];
      } else {
        const like = this.photos.get(query.like);
        if (!like) throw new Error(`${query.like} is no longer in the index`);
        q = like.embedding;
        exclude = like.path;
        info = ['Photos like ', like.url ? h('img', { src: like.url, alt: '', class: 'query-thumb' }) : '', ` ${like.path}`];
      }
      const ranked = rank(q, [...this.photos.values()].filter((p) => p.path !== exclude));
      const top = ranked.slice(0, TOP_K);
      const ms = performance.now() - t0;
      this.lastQuery = query;
      this.ui.queryInfo.replaceChildren(...info, ` · ${ranked.length} photos ranked in ${formatMs(ms)}, the best ${top.length} shown (score: cosine similarity)`);
      this.ui.results.replaceChildren(...(top.length ? top.map((r) => this.figure(r.photo, r.score)) : [h('p', { class: 'empty', text: 'No photos to rank.' })]));
      this.ui.results.dataset.state = 'done';
      this.ui.results.dataset.query = 'text' in query ? query.text : `like:${query.like}`;
    } catch (e) {
      this.ui.results.dataset.state = 'error';
      this.hooks.showError('Search failed', e);
    } finally {
      this.searching = false;
      this.update();
    }
  }

  private async rerun(): Promise<void> {
    if (this.lastQuery && !this.searching) await this.run(this.lastQuery);
  }

  private searchText(): Promise<void> {
    const text = this.ui.query.value.trim();
    if (!text) {
      this.hooks.showError('Nothing to search for', 'type a few words: what the photo shows');
      return Promise.resolve();
    }
    return this.run({ text });
  }

  private moreLike(p: Photo): Promise<void> {
    return this.run({ like: p.path });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Wiring

  private async showSavedFolder(): Promise<void> {
    try {
      const handle = await savedFolder();
      this.ui.rescan.hidden = !handle;
      if (handle) this.ui.rescan.textContent = `Scan “${handle.name}” again`;
    } catch {
      this.ui.rescan.hidden = true;
    }
  }

  private async indexFolderHandle(handle: FileSystemDirectoryHandle): Promise<void> {
    if (!(await canRead(handle))) throw new Error(`no permission to read “${handle.name}”`);
    const files = await fromDirectoryHandle(handle);
    await saveFolder(handle).catch(() => {});
    await this.showSavedFolder();
    await this.index(files, `folder “${handle.name}”`);
  }

  private wire(): void {
    this.ui.pickFolder.addEventListener('click', () => {
      // The File System Access API where present (the folder can be scanned again after a reload), else the input.
      if (!hasDirectoryPicker()) return this.ui.folderInput.click();
      void pickDirectory().then(
        (handle) => this.indexFolderHandle(handle),
        (e: Error) => {
          if (e?.name !== 'AbortError') this.hooks.showError('Could not open the folder', e);
        },
      );
    });
    this.ui.folderInput.addEventListener('change', () => {
      const files = fromInput(this.ui.folderInput.files ?? []);
      const folder = files[0]?.path.split('/')[0] ?? 'folder';
      this.ui.folderInput.value = '';
      void this.index(files, `folder “${folder}”`);
    });
    this.ui.filesInput.addEventListener('change', () => {
      const files = fromInput(this.ui.filesInput.files ?? []);
      this.ui.filesInput.value = '';
      void this.index(files, `${files.length} file${files.length === 1 ? '' : 's'}`);
    });
    this.ui.rescan.addEventListener('click', () => {
      void savedFolder().then(
        (handle) => (handle ? this.indexFolderHandle(handle) : undefined),
        (e) => this.hooks.showError('Could not open the folder', e),
      ).catch((e) => this.hooks.showError('Could not scan the folder', e));
    });
    this.ui.clear.addEventListener('click', () => {
      void deletePhotos(this.modelKey).then(
        () => {
          this.forget(this.modelKey);
          this.hooks.onChange();
        },
        (e) => this.hooks.showError('Could not delete the index', e),
      );
    });
    const zone = this.ui.drop;
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      if (!e.dataTransfer || this.indexing) return;
      void fromDrop(e.dataTransfer).then(
        (files) => this.index(files, `${files.length} dropped file${files.length === 1 ? '' : 's'}`),
        (err) => this.hooks.showError('Could not read the dropped files', err),
      );
    });
    this.ui.search.addEventListener('click', () => void this.searchText());
    this.ui.query.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !this.ui.search.disabled) void this.searchText();
    });
  }
}
