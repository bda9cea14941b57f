// @ts-check
// The package's entry point: plugformer loads it when a config names "plugformer-example-plugins" in "plugins",
// and registers every descriptor of the default export.
import cosine from './cosine-attention.js';
import mish from './mish-ffn.js';

export { CosineAttention, l2Normalize, defaultScale } from './cosine-attention.js';
export { MishFeedForward, mish as mishActivation } from './mish-ffn.js';
export { cosine, mish };

/** Every plugin of this package. */
export default [cosine, mish];
