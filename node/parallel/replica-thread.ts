/**
 * Entry of a data-parallel replica thread: activates the coordinator's tfjs backend, loads the plugin registry
 * (built-ins plus the config's own packages) and serves the replica program of core/parallel/replica.ts.
 */
import { parentPort } from 'node:worker_threads';
import { buildReplica } from '../../core/parallel/build-replica.ts';
import type { ToReplica } from '../../core/parallel/host.ts';
import { serveReplica } from '../../core/parallel/replica.ts';
import { selectBackend } from '../backend.ts';
import { loadRegistry } from '../load-registry.ts';

const port = parentPort;
if (!port) throw new Error('replica-thread.ts runs only as a worker thread');

serveReplica(
  { post: (m) => port.postMessage(m), listen: (handler) => port.on('message', (m: ToReplica) => handler(m)) },
  async (init) => {
    await selectBackend(init.backend);
    const registry = await loadRegistry(init.config.plugins);
    return buildReplica(init.config, registry, init.vocabSize);
  },
);
