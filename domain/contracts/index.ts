export * from './envelope';
export * from './payloads';
export * from './catalog';
export * from './topics';
export * from './rejects';
export * from './device-message';
export * from './identifiers';
export * from './storable';
