/**
 * `tsx bench/plain-tfjs-main.ts --backend wasm|cpu [--stock] [--steps N]`: runs the plain-tfjs gpt-ref baseline
 * and prints its {@link PlainRun} as one JSON line. `--stock` activates the backend without plugformer's wasm
 * kernel fixes; it needs a process of its own because the fixes, once registered, replace the stock kernels
 * for the whole process. `npm run bench` starts this as a child process.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../node/backend.ts';
import { GPT_REF, runPlainGpt } from './plain-tfjs.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    stock: { type: 'boolean', default: false },
    steps: { type: 'string', default: '3' },
  },
});
if (values.stock) {
  if (!(await tf.setBackend(values.backend!))) throw new Error(`backend ${values.backend} failed to initialise`);
  await tf.ready();
} else {
  await selectBackend(values.backend);
}
console.log(JSON.stringify(runPlainGpt(GPT_REF, Number(values.steps))));
