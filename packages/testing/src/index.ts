export { MemoryTopic, type MemoryCommit, type MemoryDelivery, type MemoryMessage, type MemorySendOptions } from './memory-topic.js';
export { runSnap, type RunSnapOptions, type SnapRun } from './run-snap.js';
export { FakeClock, settle, realDelay } from './fake-clock.js';
export { memoryTopicDefaults, resolveMemoryTopicOptions, type MemoryCodec, type MemoryTopicOptions, type ResolvedMemoryTopicOptions } from './options.js';
export { murmur2, partitionForKey } from './partitioner.js';
