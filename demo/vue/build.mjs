#!/usr/bin/env node
// Bundles the Vue 3 example (demo/vue/main.js + App.vue → demo/vue/dist/main.js) with esbuild. A tiny
// plugin compiles the single-file component with vue/compiler-sfc the way @vitejs/plugin-vue does,
// telling the template compiler that ml-* tags are custom elements.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { compileScript, parse } from 'vue/compiler-sfc';

/** The one setting Vue needs for ml-widgets (Vite: vue({ template: { compilerOptions: { isCustomElement } } })). */
export const isCustomElement = (tag) => tag.startsWith('ml-');

const vueSfc = {
  name: 'vue-sfc',
  setup(b) {
    b.onLoad({ filter: /\.vue$/ }, async (args) => {
      const { descriptor, errors } = parse(await readFile(args.path, 'utf8'), { filename: args.path });
      if (errors.length) return { errors: errors.map((e) => ({ text: String(e.message ?? e) })) };
      const script = compileScript(descriptor, {
        id: args.path,
        inlineTemplate: true,
        templateOptions: { compilerOptions: { isCustomElement } },
      });
      return { contents: script.content, loader: 'js', resolveDir: fileURLToPath(new URL('.', import.meta.url)) };
    });
  },
};

export async function buildVueDemo() {
  const here = (p) => fileURLToPath(new URL(p, import.meta.url));
  await build({
    entryPoints: [here('main.js')],
    outfile: here('dist/main.js'),
    bundle: true,
    format: 'esm',
    minify: true,
    plugins: [vueSfc],
    define: {
      __VUE_OPTIONS_API__: 'false',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
      'process.env.NODE_ENV': '"production"',
    },
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildVueDemo();
