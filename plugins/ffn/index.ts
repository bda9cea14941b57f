import type { PluginDescriptor } from '../../core/plugin.ts';
import bilinear from './bilinear.ts';
import dense from './dense.ts';
import geglu from './geglu.ts';
import glu from './glu.ts';
import moe from './moe.ts';
import productKey from './product-key.ts';
import reglu from './reglu.ts';
import hash from './routers/hash.ts';
import switchRouter from './routers/switch.ts';
import topK from './routers/top-k.ts';
import swiglu from './swiglu.ts';

/** Routers (kind `router`) for the moe FFN. */
export const ROUTER_PLUGINS: readonly PluginDescriptor[] = [topK, switchRouter, hash];

/** Built-in feed-forward plugins, followed by the routers their moe layer uses. */
export const FFN_PLUGINS: readonly PluginDescriptor[] = [dense, glu, reglu, geglu, swiglu, bilinear, moe, productKey, ...ROUTER_PLUGINS];
