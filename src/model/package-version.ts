/**
 * The package's version, as code can read it in Node and in browsers alike (no package.json import: the browser
 * bundle must not reach for files). test/model/compact-scheme.test.ts checks it against package.json, so a release
 * that bumps one and not the other fails the tests.
 */
export const PACKAGE_VERSION = '0.1.0';
