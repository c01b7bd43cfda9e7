/**
 * What this site keeps in the browser, and deleting it: the storage it uses of its quota
 * (navigator.storage.estimate()), whether that storage is persistent (and a button to ask for it), the model files in
 * the weights cache (listCachedFiles: whole, or a download that stopped and resumes on the next load), and the photo
 * indexes (photo-store.ts). Large downloads check the quota themselves before they start (the library's
 * StorageQuotaError names the numbers); this panel is where the user makes room.
 */
import { deleteCachedFiles, listCachedFiles, requestPersistence, storageState, type CachedFile } from '../src/index.js';
import { el, formatBytes, h, message } from './dom.js';
import { deletePhotos, indexSummaries } from './photo-store.js';

export interface StoragePanelHooks {
  showError(title: string, e: unknown): void;
  /** A model's photo index was deleted. */
  onIndexDeleted(modelKey: string): void;
}

interface ModelFilesRow {
  base: string;
  files: CachedFile[];
}

export class StoragePanel {
  private readonly ui = {
    usage: el('storage-usage'),
    persist: el<HTMLButtonElement>('persist-btn'),
    list: el('storage-list'),
  };
  private rendering: Promise<void> | null = null;
  private again = false;

  constructor(private readonly hooks: StoragePanelHooks) {
    this.ui.persist.addEventListener('click', () => {
      void requestPersistence().then(() => this.render());
    });
  }

  /** Redraws the panel (calls while one runs are folded into one more run). */
  render(): Promise<void> {
    if (this.rendering) {
      this.again = true;
      return this.rendering;
    }
    this.rendering = (async () => {
      do {
        this.again = false;
        await this.draw().catch((e) => {
          this.ui.usage.textContent = `Cannot read what this site stores: ${message(e)}`;
        });
      } while (this.again);
      this.rendering = null;
    })();
    return this.rendering;
  }

  private async draw(): Promise<void> {
    const state = await storageState();
    if (state) {
      this.ui.usage.textContent = `This site stores ${formatBytes(state.usage)} of the ${formatBytes(state.quota)} this browser lets it use. ` +
        (state.persisted ? 'Its storage is persistent: the browser keeps it until you delete it.' : 'Its storage is not persistent: under disk pressure the browser may clear it.');
      this.ui.usage.dataset.usage = String(state.usage);
      this.ui.usage.dataset.quota = String(state.quota);
      this.ui.persist.hidden = state.persisted;
    } else {
      this.ui.usage.textContent = 'This browser does not say how much this site stores.';
      this.ui.persist.hidden = true;
    }
    const files = await listCachedFiles().catch(() => [] as CachedFile[]);
    const models = new Map<string, ModelFilesRow>();
    for (const f of files) {
      const row = models.get(f.base) ?? { base: f.base, files: [] };
      row.files.push(f);
      models.set(f.base, row);
    }
    const indexes = await indexSummaries().catch(() => []);
    const rows: HTMLElement[] = [];
    for (const m of models.values()) {
      const bytes = m.files.reduce((s, f) => s + f.bytes, 0);
      const partial = m.files.filter((f) => f.state === 'partial');
      const detail = partial.length
        ? `${m.files.length} files, ${formatBytes(bytes)}; ${partial.map((f) => `${f.url.slice(f.base.length)} ${formatBytes(f.bytes)} of ${f.size !== undefined ? formatBytes(f.size) : '?'}`).join(', ')}: a download that stopped, resumed on the next load`
        : `${m.files.length} files, ${formatBytes(bytes)}`;
      rows.push(this.row('model', m.base, 'Model files', m.base, detail, async () => {
        await deleteCachedFiles(m.base);
      }));
    }
    for (const ix of indexes) {
      const [ref, dtype] = ix.model.split('|');
      const detail = `${ix.photos} photos${ix.failed ? ` (+${ix.failed} unreadable files remembered)` : ''}, ${formatBytes(ix.bytes)}`;
      rows.push(this.row('index', ix.model, 'Photo index', `${ref} (${dtype})`, detail, async () => {
        await deletePhotos(ix.model);
        this.hooks.onIndexDeleted(ix.model);
      }));
    }
    this.ui.list.replaceChildren(...(rows.length ? rows : [h('li', { class: 'empty', text: 'Nothing yet: models you load and photos you index are kept here.' })]));
  }

  private row(kind: string, id: string, what: string, name: string, detail: string, remove: () => Promise<void>): HTMLElement {
    const button = h('button', { class: 'delete', type: 'button', title: `Delete ${what.toLowerCase()} of ${name}` }, 'Delete');
    button.addEventListener('click', () => {
      button.disabled = true;
      void remove().then(
        () => this.render(),
        (e) => {
          button.disabled = false;
          this.hooks.showError(`Could not delete ${what.toLowerCase()}`, e);
        },
      );
    });
    return h(
      'li',
      { 'data-kind': kind, 'data-id': id },
      h('div', { class: 'what' }, h('strong', { text: what }), ' ', h('span', { class: 'name', text: name, title: name }), h('span', { class: 'meta', text: detail })),
      button,
    );
  }
}
