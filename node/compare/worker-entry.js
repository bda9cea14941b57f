// Worker processes run TypeScript sources, as the CLI does: tsx compiles them on the fly.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
