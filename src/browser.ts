/** The browser bundle's entry: the same API as the Node library (see index.ts). */
export * from './index.js';
