/** Climate judgement shared by the insights (cloud) and the alarms (edge): docs/insights.md, "Climate judgement". */
export * from './bands';
export * from './feed';
export * from './findings';
export * from './judge';
export * from './limits';
export * from './metrics';
export * from './profile';
