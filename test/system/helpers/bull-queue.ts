/**
 * n8n's queue as Bull 4.16.4 lays it out in Redis (n8n@2.36.9 depends on bull 4.16.4), written with redis-cli: the
 * key writes of Bull's addJob-6.lua for the options n8n passes (`queue.add('job', data, { priority: 50 | 100,
 * removeOnComplete, removeOnFail })`, so no delay, no custom id, no debounce), its pause-5.lua, and a worker taking the
 * next job (BRPOPLPUSH wait -> active, then moveToActive-8.lua's lock and ZREM from the priority set).
 * Read from the bull@4.16.4 npm package: lib/scripts.js (addJob's keys and arguments), lib/commands/addJob-6.lua,
 * includes/getTargetQueueList.lua, includes/addJobWithPriority.lua, pause-5.lua, moveToActive-8.lua, lib/queue.js
 * (toKey: `<prefix>:<queue>:<type>`, BRPOPLPUSH in getNextJob).
 */

/** A job: a hash at `<prefix>:jobs:<id>`; its id goes to the wait list, or to paused while the meta-paused key exists,
 * placed by priority (the priority sorted set counts how many waiting jobs go before it). */
export const ADD_JOB_LUA = `
local id = redis.call('INCR', KEYS[4])
redis.call('HSET', ARGV[1] .. id, 'name', ARGV[2], 'data', ARGV[3], 'opts', ARGV[4], 'timestamp', ARGV[5], 'delay', '0', 'priority', ARGV[6])
local list = KEYS[1]
if redis.call('EXISTS', KEYS[3]) == 1 then list = KEYS[2] end
local priority = tonumber(ARGV[6])
redis.call('ZADD', KEYS[5], priority, id)
local ahead = redis.call('ZCOUNT', KEYS[5], 0, priority)
local length = redis.call('LLEN', list)
local before = redis.call('LINDEX', list, length - (ahead - 1))
if before then redis.call('LINSERT', list, 'BEFORE', before, id) else redis.call('RPUSH', list, id) end
redis.call('PUBLISH', KEYS[1] .. 'ing@gm-test', id)
return id`;

/** A global pause: the wait list renamed to paused, the meta-paused key set. */
export const PAUSE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end
redis.call('SET', KEYS[3], 1)
redis.call('HSET', KEYS[4], 'paused', 1)
return 1`;

/** A worker takes the next job: the tail of wait moves to the head of active, locked, out of the priority set. */
export const TAKE_JOB_LUA = `
local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if not id then return false end
redis.call('SET', ARGV[1] .. id .. ':lock', 'worker-token', 'PX', 60000)
redis.call('ZREM', KEYS[3], id)
redis.call('HSET', ARGV[1] .. id, 'processedOn', ARGV[2])
return id`;

export type Cli = (...args: string[]) => string;

export class BullQueueWriter {
  private readonly base: string;

  constructor(private readonly cli: Cli, prefix = 'bull', queue = 'jobs') {
    this.base = `${prefix}:${queue}:`;
  }

  private key(type: string): string {
    return this.base + type;
  }

  /** Enqueues one execution as n8n's ScalingService.addJob does (priority 50 realtime, 100 otherwise). */
  addJob(executionId: string, priority: 50 | 100 = 100): string {
    const data = JSON.stringify({ workflowId: 'wf-1', executionId, loadStaticData: false, pushRef: undefined });
    const opts = JSON.stringify({ priority, removeOnComplete: true, removeOnFail: true, attempts: 1, delay: 0, timestamp: Date.now() });
    return this.cli('EVAL', ADD_JOB_LUA, '5', this.key('wait'), this.key('paused'), this.key('meta-paused'), this.key('id'), this.key('priority'),
      this.base, 'job', data, opts, String(Date.now()), String(priority));
  }

  pause(): void {
    this.cli('EVAL', PAUSE_LUA, '4', this.key('wait'), this.key('paused'), this.key('meta-paused'), this.key('meta'));
  }

  /** A worker takes the next job; returns its id. */
  takeJob(): string {
    return this.cli('EVAL', TAKE_JOB_LUA, '3', this.key('wait'), this.key('active'), this.key('priority'), this.base, String(Date.now()));
  }

  waitingIds(): string[] {
    return this.cli('LRANGE', this.key('wait'), '0', '-1').split('\n').filter(Boolean);
  }
}
