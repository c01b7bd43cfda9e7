// Model references and the huggingface_hub environment variables (never the network).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../../src/model/source-node.js';
import { UrlSource, type FileSource } from '../../../src/model/source.js';
import { hubEndpoint, isOffline, nodeCacheDir, nodeToken, parseModelId, resolveUrl } from '../../../src/model/hub/hub-config.js';
import { openModelSource, CachedUrlSource } from '../../../src/model/hub/index.js';
import { clearHfEnv } from '../../helpers/mock-hub.js';

let restoreEnv: () => void;
let tmp: string;
beforeEach(async () => {
  restoreEnv = clearHfEnv();
  tmp = await mkdtemp(join(tmpdir(), 'hub-config-'));
});
afterEach(async () => {
  restoreEnv();
  await rm(tmp, { recursive: true, force: true });
});

describe('model ids', () => {
  it('parses org/name and org/name@revision', () => {
    expect(parseModelId('google/siglip-base-patch16-224')).toEqual({ repo: 'google/siglip-base-patch16-224', revision: 'main' });
    expect(parseModelId('google/siglip@v1.0')).toEqual({ repo: 'google/siglip', revision: 'v1.0' });
    expect(parseModelId('google/siglip@refs/pr/3')).toEqual({ repo: 'google/siglip', revision: 'refs/pr/3' });
    expect(parseModelId('google/siglip', 'dev')).toEqual({ repo: 'google/siglip', revision: 'dev' });
  });
  it('rejects what is not an id', () => {
    for (const bad of ['siglip', 'a/b/c', '../x', './x', '~/x', '/abs/path', 'org/na me']) {
      expect(parseModelId(bad), bad).toBeNull();
    }
  });
  it('refuses ids and revisions that would leave the cache folder or are not what the hub allows, naming the part', () => {
    const cases: [string, RegExp][] = [
      ['org/..', /"org\/\.\." from the model reference "org\/\.\.": not a valid repository id/],
      ['org/name@', /"" from the model reference "org\/name@": not a valid revision .*empty/],
      ['org/name@../../../../out', /"\.\.\/\.\.\/\.\.\/\.\.\/out" from the model reference .*: not a valid revision/],
      ['org/name@refs/../../x', /not a valid revision .*segment "\.\." starts with "\."/],
      ['org/name@/abs', /not a valid revision .*empty path segment/],
      ['org/name@a\\b', /not a valid revision/],
      ['org/name@main.lock', /ends in "\.lock"/],
      ['org/na--me', /not a valid repository id .*"--"/],
      ['org/name.git', /not a valid repository id .*"\.git"/],
      ['-org/name', /not a valid repository id/],
      [`org/${'x'.repeat(100)}`, /longer than 96/],
    ];
    for (const [ref, msg] of cases) expect(() => parseModelId(ref), ref).toThrow(msg);
    expect(() => parseModelId('org/name', '../x')).toThrow(/from the revision option: not a valid revision/);
    for (const ok of ['org/name@refs/pr/3', 'org/name@v1.0', 'org/name@fp16', 'org/name@0123456789abcdef0123456789abcdef01234567', 'Org_1/na.me-2']) {
      expect(parseModelId(ok), ok).not.toBeNull();
    }
  });
  it('builds resolve URLs with the revision as one escaped segment', () => {
    expect(resolveUrl('https://hf.co', 'o/n', 'main', 'config.json')).toBe('https://hf.co/o/n/resolve/main/config.json');
    expect(resolveUrl('https://hf.co', 'o/n', 'refs/pr/3', 'sub/a b.json')).toBe('https://hf.co/o/n/resolve/refs%2Fpr%2F3/sub/a%20b.json');
  });
});

describe('environment', () => {
  it('endpoint: option, then HF_ENDPOINT, then huggingface.co', () => {
    expect(hubEndpoint({})).toBe('https://huggingface.co');
    process.env.HF_ENDPOINT = 'https://mirror.example/';
    expect(hubEndpoint({})).toBe('https://mirror.example');
    expect(hubEndpoint({ endpoint: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:9');
  });

  it('cache dir precedence: option > HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME > ~/.cache', async () => {
    expect(await nodeCacheDir({})).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
    process.env.XDG_CACHE_HOME = join(tmp, 'xdg');
    expect(await nodeCacheDir({})).toBe(join(tmp, 'xdg', 'huggingface', 'hub'));
    process.env.HF_HOME = join(tmp, 'home');
    expect(await nodeCacheDir({})).toBe(join(tmp, 'home', 'hub'));
    process.env.HUGGINGFACE_HUB_CACHE = join(tmp, 'legacy');
    expect(await nodeCacheDir({})).toBe(join(tmp, 'legacy'));
    process.env.HF_HUB_CACHE = join(tmp, 'hubcache');
    expect(await nodeCacheDir({})).toBe(join(tmp, 'hubcache'));
    expect(await nodeCacheDir({ cacheDir: 'rel/dir' })).toBe(resolve('rel/dir'));
    process.env.HF_HUB_CACHE = '~/hfc';
    expect(await nodeCacheDir({})).toBe(join(homedir(), 'hfc'));
  });

  it('token: option > HF_TOKEN > $HF_TOKEN_PATH > $HF_HOME/token; false disables', async () => {
    process.env.HF_HOME = tmp;
    expect(await nodeToken({})).toBeUndefined();
    await writeFile(join(tmp, 'token'), 'hf_from_home\n');
    expect(await nodeToken({})).toBe('hf_from_home');
    await writeFile(join(tmp, 'other'), '  hf_from_path  ');
    process.env.HF_TOKEN_PATH = join(tmp, 'other');
    expect(await nodeToken({})).toBe('hf_from_path');
    process.env.HF_TOKEN = 'hf_env';
    expect(await nodeToken({})).toBe('hf_env');
    expect(await nodeToken({ token: 'hf_opt' })).toBe('hf_opt');
    expect(await nodeToken({ token: false })).toBeUndefined();
  });

  it('HF_HUB_OFFLINE is read as huggingface_hub reads it', () => {
    expect(isOffline({})).toBe(false);
    for (const v of ['1', 'true', 'YES', 'on']) {
      process.env.HF_HUB_OFFLINE = v;
      expect(isOffline({}), v).toBe(true);
    }
    process.env.HF_HUB_OFFLINE = '0';
    expect(isOffline({})).toBe(false);
    expect(isOffline({ offline: true })).toBe(true);
  });
});

describe('openModelSource', () => {
  it('returns a FileSource as is', async () => {
    const src: FileSource = new DirectorySource(tmp);
    expect(await openModelSource(src)).toBe(src);
  });

  it('an existing directory is a DirectorySource, even one named like org/name', async () => {
    expect(await openModelSource('test/fixtures/siglip-tiny')).toBeInstanceOf(DirectorySource);
    const cwd = process.cwd();
    await mkdir(join(tmp, 'org', 'name'), { recursive: true });
    process.chdir(tmp);
    try {
      expect(await openModelSource('org/name')).toBeInstanceOf(DirectorySource);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a URL is a UrlSource (Node) or a cached one (browser)', async () => {
    expect(await openModelSource('https://example.com/models/tiny/')).toBeInstanceOf(UrlSource);
    expect(await openModelSource('https://example.com/models/tiny/', { browser: true, cacheStorage: null })).toBeInstanceOf(CachedUrlSource);
  });

  it('a model id is the hub (no network until a file is read)', async () => {
    const src = await openModelSource('org/tiny@v2', { endpoint: 'http://127.0.0.1:9', cacheDir: tmp });
    expect(src.description).toContain('org/tiny@v2');
    expect(src.locate('config.json')).toBe('http://127.0.0.1:9/org/tiny/resolve/v2/config.json');
    const browser = await openModelSource('org/tiny', { browser: true, endpoint: 'http://127.0.0.1:9', cacheStorage: null });
    expect(browser.locate('config.json')).toBe('http://127.0.0.1:9/org/tiny/resolve/main/config.json');
  });

  it('says what it accepts when the reference is none of them', async () => {
    await expect(openModelSource('no-such-thing')).rejects.toThrow(/not an existing directory, an http\(s\) URL or a Hugging Face model id/);
    await expect(openModelSource('./missing/dir')).rejects.toThrow(/no such directory/);
    await expect(openModelSource('test/fixtures/siglip-tiny/config.json')).rejects.toThrow(/not a directory/);
  });
});
