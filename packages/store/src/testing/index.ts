/** @tmi-bff/store/testing: what the tests of every workspace share. */
export * from './redis-server.js';
export * from './results.js';
