import { Redis } from 'ioredis';
import { PlugformerError } from '../../core/errors.ts';

/** The queue runs are dispatched on unless a name is given (one Redis can serve several). */
export const DEFAULT_QUEUE = 'plugformer-runs';

/** Connection options for BullMQ (ioredis) parsed from a redis:// or rediss:// URL. */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
  /** BullMQ workers block on Redis; ioredis must not give up on a slow reply. */
  maxRetriesPerRequest: null;
}

/** Parse `redis://[user:password@]host[:port][/db]` (rediss:// for TLS); a malformed URL is a PlugformerError. */
export function redisConnection(url: string): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PlugformerError(`--queue must be a Redis URL like redis://HOST:PORT (got "${url}")`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new PlugformerError(`--queue must start with redis:// or rediss:// (got "${url}")`);
  if (!u.hostname) throw new PlugformerError(`--queue ${url} names no host`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new PlugformerError(`--queue ${url}: the path must be a database number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * A Redis client for one BullMQ queue, worker or event stream. BullMQ loads no Redis driver itself under ESM, so
 * every user gets a client made here; the owner closes it (`quit`) after closing the BullMQ object.
 */
export function openRedis(url: string): Redis {
  return new Redis(redisConnection(url));
}
