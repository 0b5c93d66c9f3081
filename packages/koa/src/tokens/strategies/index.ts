/**
 * D9: the downscoping strategies by name, as `TokenServiceOptions.strategy` and the
 * `BFF_DOWNSCOPING` setting name them. A new strategy is a `Downscoper` in a file of its own and one
 * entry here.
 */
import type { Downscoper } from './downscoper.js';
import { exchange } from './exchange.js';
import { refresh } from './refresh.js';

export const downscopers = { refresh, exchange } as const satisfies Record<string, Downscoper>;

/** D9: how a narrower token is obtained: a name in `downscopers`. */
export type DownscopingStrategy = keyof typeof downscopers;

export type { DownscopeContext, Downscoped, Downscoper } from './downscoper.js';
