export * from './outcome.js';
export * from './catalog.js';
export * from './event-names.js';
export type * from './messages.js';
export * from './subscription-request.js';
export * from './topic.js';
export * from './context-rules.js';
export * from './json-value.js';
