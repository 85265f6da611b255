#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadModel, ModelError, VERSION, type ModelMeta, type TensorFeed } from '../runtime/index.js';
import { compile } from './compile.js';
import { CompileError } from './errors.js';
import { parseDimOption } from './shape/symbols.js';

const USAGE = `ml-widgets ${VERSION} — compile ONNX models into one small .wasm for <ml-classifier> and friends

Usage:
  ml-widgets compile <model.onnx> -o <model.wasm> [--dim NAME=N|..MAX|MIN..MAX]… [--const NAME=VALUE]…
                     [--labels <file>] [--max-batch <n>] [--relaxed-simd]
  ml-widgets inspect <model.wasm>
  ml-widgets predict <model.wasm> --input <in.json | ->

compile   --dim          a symbolic dimension: NAME=N fixes it (fastest), NAME=..MAX or NAME=MIN..MAX bounds it;
                         NAME is the export's dim_param, or input[axis] for an unnamed one (default: one shared
                         bound that keeps the working memory within 16 MiB; compile prints every bound)
          --const        fix an input at compile time, NAME=VALUE (a number or a JSON array): it folds away,
                         and an If on it is decided now
          --labels       class labels: a text file with one per line, or a JSON array
          --max-batch    rows per call for a model that keeps rows apart (a bound on its batch dimension)
          --relaxed-simd faster FMA kernels for browsers with relaxed SIMD (Chrome 114+); others refuse the file
          --image WxH|auto the model takes images (size checked against the input shape); with
                         --mean a,b,c --std a,b,c (after --scale, default 1/255), --channels RGB|BGR|L,
                         --resize center-crop|fit|stretch, --invert (dark ink on light paper is high)
inspect   prints the model's metadata (ml.meta) as JSON
predict   in.json is {"shape":[…],"data":[…]} (or {"<input>": {"shape","data","dtype"?}, …} for several inputs;
          int64 data as numbers or strings); prints {"<output>": {"dtype","shape","data"}, …}`;

/** After a list of ops the compiler cannot compile: what a user can do about them. */
const UNSUPPORTED_HINT = `
What to try: export the model again with another ONNX opset (ml-widgets compiles opsets 1–21; an op variant
refused at one opset may be supported at another), fold what is constant before compiling (onnx-simplifier
turns shape arithmetic and constant branches into plain tensors), or replace the op in the model. The ops
ml-widgets compiles are listed in its README ("Compile a model").`;

class UsageError extends Error {}

function parseCommandLine(argv: string[]) {
  try {
    return parseOptions(argv);
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      labels: { type: 'string' },
      'max-batch': { type: 'string' },
      'relaxed-simd': { type: 'boolean' },
      dim: { type: 'string', multiple: true },
      const: { type: 'string', multiple: true },
      image: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      scale: { type: 'string' },
      channels: { type: 'string' },
      resize: { type: 'string' },
      invert: { type: 'boolean' },
      input: { type: 'string', short: 'i' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  const [command, file, ...extra] = positionals;
  if (values.version) return void console.log(VERSION);
  if (values.help || !command) return void console.log(USAGE);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!file) throw new UsageError(`"${command}" needs a file`);

  switch (command) {
    case 'compile': {
      if (!values.output) throw new UsageError('compile needs -o <model.wasm>');
      const maxBatch = values['max-batch'] !== undefined ? Number(values['max-batch']) : undefined;
      if (maxBatch !== undefined && !(Number.isInteger(maxBatch) && maxBatch >= 1))
        throw new UsageError('--max-batch must be a whole number ≥ 1');
      const onnx = await read(file);
      // Large models take a while: say what is going on unless it is over at once.
      const started = Date.now();
      const slow = setTimeout(
        () => console.error(`ml-widgets: compiling ${file} (${(onnx.byteLength / 2 ** 20).toFixed(1)} MB)…`),
        1000,
      );
      slow.unref();
      const { wasm, meta } = await compile(onnx, {
        labels: values.labels ? parseLabels(await readFile(values.labels, 'utf8')) : undefined,
        maxBatch,
        relaxedSimd: values['relaxed-simd'],
        dims: parseDims(values.dim ?? []),
        consts: parseConsts(values.const ?? []),
        image: parseImageOptions(values),
      });
      clearTimeout(slow);
      await writeFile(values.output, wasm);
      const took = Date.now() - started;
      const bounds = meta.symbols.map((s) => `${s.name} ${s.min}..${s.max}${s.flagged ? '' : ' (default)'}`);
      console.error(
        `${values.output}: ${wasm.byteLength} bytes (${meta.weightBytes} of weights), ops ${meta.ops.join(' ')}, ` +
          `inputs ${meta.inputs.map((t) => `${t.name}[${t.shape.join(',')}]`).join(' ')}, arena ${meta.arenaBytes} bytes` +
          (bounds.length ? `, symbolic dimensions: ${bounds.join(', ')}` : '') +
          (meta.rows ? `, ${meta.maxBatch} rows per call` : '') +
          (took >= 1000 ? `, compiled in ${(took / 1000).toFixed(1)} s` : ''),
      );
      return;
    }
    case 'inspect': {
      const bytes = await read(file);
      const model = await loadModel(bytes, { name: file });
      console.log(JSON.stringify({ ...model.meta, fileBytes: bytes.byteLength }, null, 2));
      return;
    }
    case 'predict': {
      if (!values.input) throw new UsageError('predict needs --input <in.json> (or - for standard input)');
      const model = await loadModel(await read(file), { name: file });
      const text = values.input === '-' ? await readStdin() : await readFile(values.input, 'utf8');
      const outputs = model.run(parsePredictInput(text, model.meta));
      const json: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(outputs)) {
        const data = Array.from(t.data as ArrayLike<number | string | bigint>, (v) =>
          typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v,
        );
        json[name] = { dtype: t.dtype, shape: t.shape, data };
      }
      console.log(JSON.stringify(json));
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function read(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new UsageError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
}

type ImageOptions = NonNullable<Parameters<typeof compile>[1]>['image'];

/** --image [WxH|N|auto] with --mean, --std, --scale, --channels, --resize, --invert. */
function parseImageOptions(v: Record<string, string | boolean | string[] | undefined>): ImageOptions {
  const flags = ['image', 'mean', 'std', 'scale', 'channels', 'resize', 'invert'];
  if (!flags.some((f) => v[f] !== undefined)) return undefined;
  const numbers = (name: string) => {
    const raw = v[name];
    if (typeof raw !== 'string') return undefined;
    const list = raw.split(',').map((s) => Number(s.trim()));
    if (list.some((n) => !Number.isFinite(n)))
      throw new UsageError(`--${name} takes comma-separated numbers, e.g. 0.485,0.456,0.406`);
    return list;
  };
  const size = typeof v.image === 'string' && v.image !== 'auto' ? v.image.split('x').map(Number) : [];
  if (size.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError('--image takes a size like 224 or 224x224 (or auto)');
  const scaleText = typeof v.scale === 'string' ? v.scale : undefined;
  const scale =
    scaleText === undefined
      ? undefined
      : scaleText.includes('/')
        ? Number(scaleText.split('/')[0]) / Number(scaleText.split('/')[1])
        : Number(scaleText);
  if (scale !== undefined && !Number.isFinite(scale))
    throw new UsageError('--scale takes a number such as 1/255 or 0.0039');
  const channels = v.channels as string | undefined;
  if (channels !== undefined && !['RGB', 'BGR', 'L'].includes(channels))
    throw new UsageError('--channels is RGB, BGR or L');
  const resize = v.resize as string | undefined;
  if (resize !== undefined && !['center-crop', 'fit', 'stretch'].includes(resize))
    throw new UsageError('--resize is center-crop, fit or stretch');
  return {
    width: size[0],
    height: size[1] ?? size[0],
    mean: numbers('mean'),
    std: numbers('std'),
    scale,
    channels: channels as 'RGB' | 'BGR' | 'L' | undefined,
    resize: resize as 'center-crop' | 'fit' | 'stretch' | undefined,
    invert: v.invert === true ? true : undefined,
  };
}

export function parseLabels(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) throw new UsageError('the labels file is not a JSON array');
    return parsed.map(String);
  }
  return trimmed
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** `--dim NAME=…` flags as the compiler takes them (each parsed like the API's `dims`). */
function parseDims(flags: string[]): Record<string, { value: number } | { min?: number; max?: number }> {
  const out: Record<string, { value: number } | { min?: number; max?: number }> = {};
  for (const f of flags) {
    const [name, option] = parseDimOption(f);
    if (name in out) throw new UsageError(`--dim ${name} is given twice`);
    out[name] = option;
  }
  return out;
}

/** `--const NAME=VALUE` flags: VALUE is a number, true/false, or a JSON array. */
function parseConsts(flags: string[]): Record<string, number | boolean | number[]> {
  const out: Record<string, number | boolean | number[]> = {};
  for (const f of flags) {
    const at = f.indexOf('=');
    if (at <= 0) throw new UsageError(`--const "${f}" is not NAME=VALUE`);
    const [name, text] = [f.slice(0, at), f.slice(at + 1).trim()];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UsageError(`--const ${name}: "${text}" is not a number, true/false or a JSON array`);
    }
    if (!(
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      (Array.isArray(value) && value.every((v) => typeof v === 'number'))
    ))
      throw new UsageError(`--const ${name}: "${text}" is not a number, true/false or a JSON array of numbers`);
    out[name] = value as number | boolean | number[];
  }
  return out;
}

interface TensorJson {
  shape: number[];
  data: (number | string | boolean)[];
  dtype?: string;
}

/** predict's JSON as run() feeds: each input's shape and data, in the input's element type. */
function parsePredictInput(text: string, meta: ModelMeta): Record<string, TensorFeed> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the input is not JSON: ${(err as Error).message}`);
  }
  const byName: Record<string, TensorJson> =
    parsed && typeof parsed === 'object' && 'data' in parsed
      ? { [meta.inputs[0].name]: parsed as TensorJson }
      : (parsed as Record<string, TensorJson>);
  const feeds: Record<string, TensorFeed> = {};
  for (const t of meta.inputs) {
    const given = byName?.[t.name];
    if (!given || !Array.isArray(given.data) || !Array.isArray(given.shape)) {
      throw new UsageError(`the input needs {"shape":[${t.shape.join(',')}],"data":[…]} for input "${t.name}"`);
    }
    if (given.dtype !== undefined && given.dtype !== t.dtype)
      throw new UsageError(`input "${t.name}" is ${t.dtype}, not ${given.dtype}`);
    const count = given.shape.reduce((a, b) => a * b, 1);
    if (count !== given.data.length)
      throw new UsageError(
        `input "${t.name}": shape [${given.shape}] holds ${count} values but data has ${given.data.length}`,
      );
    const bad = given.data.findIndex(
      (v) =>
        typeof v !== 'number' &&
        !(t.dtype === 'bool' && typeof v === 'boolean') &&
        !(t.dtype === 'int64' && typeof v === 'string' && /^-?\d+$/.test(v)),
    );
    if (bad >= 0) throw new UsageError(`input "${t.name}": data[${bad}] is not a ${t.dtype} value`);
    const data =
      t.dtype === 'int64'
        ? BigInt64Array.from(given.data, (v) => BigInt(v as number | string))
        : (given.data as number[]);
    feeds[t.name] = { data, shape: given.shape };
  }
  return feeds;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

run(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) {
    console.error(`ml-widgets: ${err.message}\nRun "ml-widgets --help" for usage.`);
    process.exitCode = 2;
  } else if (err instanceof CompileError || err instanceof ModelError) {
    console.error(
      `ml-widgets: ${err.message}${err instanceof CompileError && err.code === 'unsupported-ops' ? UNSUPPORTED_HINT : ''}`,
    );
    process.exitCode = 1;
  } else {
    console.error(`ml-widgets: internal error: ${(err as Error).stack ?? err}`);
    process.exitCode = 70;
  }
});
