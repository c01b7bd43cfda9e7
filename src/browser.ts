/// <reference types="@webgpu/types" preserve="true" />
/**
 * The browser entry (`siglip-webgpu/browser`, and `siglip-webgpu` wherever the "browser" condition or none of
 * "node" applies): the same API as the Node library (see index.ts). scripts/build.mjs bundles it with every Node-only
 * module (Dawn, node:*, *-node.ts) replaced by one that throws, so the bundle imports nothing (build-options.mjs).
 */
export * from './index.js';
