import type { Admin } from './admin.js';
import { CliError } from '../errors.js';

/** One partition's position of a group. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset, or null when the group has committed nothing on this partition. */
  readonly committed: number | null;
  readonly end: number;
  readonly lag: number;
}

/**
 * Per partition of every topic `group` committed on (or of `topics`): committed offset, end offset
 * and lag (end - committed; a partition without a commit lags by all it holds).
 */
export async function groupLag(admin: Admin, brokers: string, group: string, topics: readonly string[] | undefined, timeout: number): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId: group, timeout, ...(topics ? { topics: [...topics] } : {}) }).catch((err: unknown) => {
    throw new CliError('SNOOPY_CLI_KAFKA', `Could not fetch the offsets of group ${group} at ${brokers}`, { cause: err });
  });
  // A group that never committed on a topic it was asked about is absent from the answer.
  const named = topics ?? committed.map((c) => c.topic);
  const byTopic = named.map((topic) => ({ topic, partitions: committed.find((c) => c.topic === topic)?.partitions ?? [] }));
  const rows: PartitionLag[] = [];
  for (const { topic, partitions } of byTopic.sort((a, b) => a.topic.localeCompare(b.topic))) {
    const ends = await admin.fetchTopicOffsets(topic).catch((err: unknown) => {
      throw new CliError('SNOOPY_CLI_KAFKA', `Could not fetch the end offsets of ${topic} at ${brokers}`, { cause: err });
    });
    for (const bounds of [...ends].sort((a, b) => a.partition - b.partition)) {
      const end = Number(bounds.high);
      const at = Number(partitions.find((p) => p.partition === bounds.partition)?.offset ?? -1);
      const has = Number.isFinite(at) && at >= 0;
      rows.push({ topic, partition: bounds.partition, committed: has ? at : null, end, lag: Math.max(0, end - (has ? at : Number(bounds.low))) });
    }
  }
  return rows;
}
