/** Module shapes the image decoders import lazily (see wasm-load.ts and decode-heic.ts). */
declare module '*.wasm' {
  /** The file's bytes: esbuild's `binary` loader in the browser bundles (scripts/build.mjs). */
  const bytes: Uint8Array;
  export default bytes;
}
declare module 'libheif-js/libheif-wasm/libheif-bundle.mjs' {
  const factory: (opts?: Record<string, unknown>) => unknown;
  export default factory;
}
