export * from './edge-batch';
export * from './request-signing';
export * from './retry-policy';
