// Runs a kernel micro-benchmark in headless Chromium (one thread) once per kernel build
// (dist/kernels.wasm, dist/kernels-relaxed.wasm) and prints what it returns. Env: ML_CHROMIUM
// (default /usr/bin/chromium). `pageFn(bytes)` runs in the page: it gets the build's bytes as an array,
// returns null when the browser cannot validate them, else a JSON-able result for `print`. Extra
// arguments (JSON-able) are passed to `pageFn` after the bytes.
import puppeteer from 'puppeteer-core';
import { readFile } from 'node:fs/promises';
import { CHROMIUM } from '../../test/browsers.mjs';

const BUILDS = ['kernels.wasm', 'kernels-relaxed.wasm'];

export async function benchEachBuild(
  pageFn,
  print = (build, result) => console.log(build, JSON.stringify(result)),
  ...args
) {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage();
    for (const build of BUILDS) {
      const bytes = [...(await readFile(new URL(`../../dist/${build}`, import.meta.url)))];
      const result = await page.evaluate(pageFn, bytes, ...args);
      if (result === null) console.log(build, 'not supported by this browser');
      else print(build, result);
    }
  } finally {
    await browser.close();
  }
}
